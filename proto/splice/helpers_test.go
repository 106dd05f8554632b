// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gopasst/policy"
)

// server is a TCP server on the host's loopback, handling each connection
// with fn on its own goroutine.
func server(t testing.TB, network string, fn func(c *net.TCPConn)) uint16 {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "tcp6" {
		addr = "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fn(c.(*net.TCPConn))
			}()
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// listen opens a splice listener on an ephemeral port towards toPort and
// returns the port.
func (l *loop) listen(t testing.TB, bind netip.Addr, toPort uint16) uint16 {
	t.Helper()
	var err error
	var port uint16
	l.do(func() {
		err = l.h.Listen(policy.Listener{Bind: bind, Port: 0, ToPort: toPort})
		if err == nil {
			port = l.h.listeners[len(l.h.listeners)-1].port
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// dial connects to the splice listener on port.
func dial(t testing.TB, network string, port uint16) *net.TCPConn {
	t.Helper()
	host := "127.0.0.1"
	if network == "tcp6" {
		host = "::1"
	}
	c, err := net.DialTimeout(network, net.JoinHostPort(host, itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	return c.(*net.TCPConn)
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// result is what one end of an exchange sent and received.
type result struct {
	sent, got       [32]byte
	nSent, nGot     int64
	writeErr, rdErr error
}

// exchange writes n pseudo-random bytes from seed to c then shuts down
// its write side, while reading c to EOF; it returns the digests.
func exchange(c *net.TCPConn, n int64, seed uint64) result {
	var r result
	done := make(chan struct{})
	go func() {
		defer close(done)
		h := sha256.New()
		rng := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
		buf := make([]byte, 64<<10)
		for r.nSent < n {
			b := buf[:min(int64(len(buf)), n-r.nSent)]
			for i := 0; i+8 <= len(b); i += 8 {
				v := rng.Uint64()
				for j := range 8 {
					b[i+j] = byte(v >> (8 * j))
				}
			}
			h.Write(b)
			w, err := c.Write(b)
			r.nSent += int64(w)
			if err != nil {
				r.writeErr = err
				return
			}
		}
		copy(r.sent[:], h.Sum(nil))
		r.writeErr = c.CloseWrite()
	}()
	h := sha256.New()
	r.nGot, r.rdErr = io.Copy(h, c)
	copy(r.got[:], h.Sum(nil))
	<-done
	return r
}

// isReset reports whether err is a connection reset.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// fdCount returns the number of open file descriptors of the process.
func fdCount(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFds waits up to 5 s for the fd count to drop to at most n.
func waitFds(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := fdCount(t)
		if got <= n {
			return
		}
		if time.Now().After(deadline) {
			ents, _ := os.ReadDir("/proc/self/fd")
			var links []string
			for _, e := range ents {
				l, _ := os.Readlink("/proc/self/fd/" + e.Name())
				links = append(links, e.Name()+"→"+l)
			}
			t.Fatalf("open fds = %d, want at most %d: %v", got, n, links)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echo copies c back to itself, then shuts down its write side. The
// wrappers hide TCPConn.ReadFrom: Go would splice through pipes of its
// own, cached in a pool, which the fd counts would see as leaks.
func echo(c *net.TCPConn) {
	io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
	c.CloseWrite()
}
