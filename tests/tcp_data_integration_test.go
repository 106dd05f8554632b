// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// tcpBulkSize is the acceptance figure: 1 GiB per transfer.
// GOPASST_TCP_BULK_MIB overrides it for quick runs.
var tcpBulkSize = func() int64 {
	if m, err := strconv.Atoi(os.Getenv("GOPASST_TCP_BULK_MIB")); err == nil && m > 0 {
		return int64(m) << 20
	}
	return 1 << 30
}()

// tcpTransfer sends size bytes over one connection, made by dial, to a
// server accepting on l, and compares the SHA-256 of what was sent with
// that of what arrived. Both ends run in this process; the connection
// crosses pasta's tap once.
func tcpTransfer(t *testing.T, l net.Listener, dial func() (net.Conn, error), size int64, limit time.Duration, diag func() string) {
	t.Helper()
	type result struct {
		n   int64
		sum string
		err error
	}
	got := make(chan result, 1)
	go func() {
		if tl, ok := l.(*net.TCPListener); ok {
			tl.SetDeadline(time.Now().Add(10 * time.Second))
		}
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(limit + 15*time.Second)) // the sender fails first
		n, sum, err := recvHash(c)
		got <- result{n, sum, err}
	}()
	start := time.Now()
	c, err := dial()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetDeadline(time.Now().Add(limit))
	sent, err := sendPattern(c, size)
	if err != nil {
		if diag != nil {
			t.Logf("at the failure:\n%s", diag())
		}
		c.Close()
		t.Fatalf("send after %v: %v", time.Since(start), err)
	}
	c.(*net.TCPConn).CloseWrite()
	r := <-got
	c.Close()
	el := time.Since(start)
	if r.err != nil {
		if diag != nil {
			t.Logf("at the failure:\n%s", diag())
		}
		t.Fatalf("receive: %v after %d bytes", r.err, r.n)
	}
	if r.n != size || r.sum != sent {
		t.Fatalf("received %d bytes, SHA-256 %s; sent %d, %s", r.n, r.sum, size, sent)
	}
	t.Logf("%d MiB in %v: %.2f Gbit/s, SHA-256 equal (%s…)", size>>20, el.Round(time.Millisecond),
		float64(size)*8/el.Seconds()/1e9, sent[:16])
}

// tcpVariant is one way through pasta: who dials whom.
type tcpVariant struct {
	name   string
	listen func(t *testing.T) net.Listener
	dial   func(t *testing.T) (net.Conn, error)
}

// tcpVariants returns the four paths of the acceptance: namespace → the
// mapped gateway (IPv4, IPv6) → a server on host loopback, and host → a
// -t forwarded port on the host's own address (IPv4, IPv6) → a server in
// the namespace. The host's own address, not loopback, keeps the
// connection on the tap (pasta splices loopback).
func tcpVariants(n *tcpNet, fwdPort int) []tcpVariant {
	v6 := hostV6()
	var vs []tcpVariant
	add := func(name, network, hostAddr, gw string) {
		var port string
		vs = append(vs, tcpVariant{
			name: name,
			listen: func(t *testing.T) net.Listener {
				if gw == "" {
					t.Skip("no IPv6 in the namespace")
				}
				l, err := net.Listen(network, net.JoinHostPort(hostAddr, "0"))
				if err != nil {
					t.Skipf("no %s on the host: %v", hostAddr, err)
				}
				t.Cleanup(func() { l.Close() })
				port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
				return l
			},
			dial: func(t *testing.T) (net.Conn, error) {
				return n.dial(t, network, net.JoinHostPort(gw, port), 5*time.Second)
			},
		})
	}
	add("ns_to_host_v4", "tcp4", "127.0.0.1", n.gw4)
	add("ns_to_host_v6", "tcp6", "::1", n.gw6)
	fwd := func(name, network, nsAddr, hostAddr string) {
		vs = append(vs, tcpVariant{
			name: name,
			listen: func(t *testing.T) net.Listener {
				if hostAddr == "" {
					t.Skip("no global IPv6 address on the host")
				}
				return n.listen(t, network, net.JoinHostPort(nsAddr, strconv.Itoa(fwdPort)))
			},
			dial: func(t *testing.T) (net.Conn, error) {
				return net.DialTimeout(network, net.JoinHostPort(hostAddr, strconv.Itoa(fwdPort)), 5*time.Second)
			},
		})
	}
	fwd("host_to_ns_v4", "tcp4", "0.0.0.0", n.addr4)
	fwd("host_to_ns_v6", "tcp6", "::", v6)
	return vs
}

// TestIntegrationTCPBulkIntegrity moves 1 GiB through the real pasta
// binary on each of the four paths, then the same with 1% of the frames
// dropped each way on the tap, and compares SHA-256 on both ends.
func TestIntegrationTCPBulkIntegrity(t *testing.T) {
	fwd := freePort(t)
	n := startTCPNet(t, fmt.Sprintf("gptcpb%d", os.Getpid()), "-t", strconv.Itoa(fwd))
	run := func(t *testing.T, limit time.Duration) {
		for _, v := range tcpVariants(n, fwd) {
			t.Run(v.name, func(t *testing.T) {
				l := v.listen(t)
				tcpTransfer(t, l, func() (net.Conn, error) { return v.dial(t) }, tcpBulkSize, limit, n.diag)
				l.Close()
			})
		}
	}
	t.Run("clean", func(t *testing.T) { run(t, 60*time.Second) })
	if t.Failed() {
		return
	}
	t.Run("loss_1pct", func(t *testing.T) {
		n.lossy(t)
		run(t, 90*time.Second)
		t.Logf("frames dropped by nftables (out/in): %s", n.lossCounters(t))
	})
}
