// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// A tiny authoritative DNS responder for the tests: A and AAAA records for
// a few names, over UDP and TCP (RFC 1035 4.2), on sockets opened inside a
// namespace the test made.

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dnsResponder answers for the names in its table, counting the queries
// it answered per transport.
type dnsResponder struct {
	names     map[string][]netip.Addr // lower case, with the trailing dot
	udp, tcp  atomic.Int64
	udpConn   net.PacketConn
	tcpListen net.Listener
}

// startDNSResponder listens on addr (UDP and TCP) inside the namespace at
// nsPath and answers for names. It stops on cleanup.
func startDNSResponder(t *testing.T, nsPath string, addr netip.AddrPort, names map[string][]netip.Addr) *dnsResponder {
	t.Helper()
	d := &dnsResponder{names: map[string][]netip.Addr{}}
	for n, a := range names {
		d.names[strings.ToLower(strings.TrimSuffix(n, "."))+"."] = a
	}
	nsSock := udpNsSocket(t, nsPath)
	af := unix.AF_INET
	if addr.Addr().Is6() {
		af = unix.AF_INET6
	}
	open := func(typ int) *os.File {
		fd, err := nsSock(af, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		var sa unix.Sockaddr
		if af == unix.AF_INET {
			sa = &unix.SockaddrInet4{Addr: addr.Addr().As4(), Port: int(addr.Port())}
		} else {
			sa = &unix.SockaddrInet6{Addr: addr.Addr().As16(), Port: int(addr.Port())}
		}
		if err := unix.Bind(fd, sa); err != nil {
			unix.Close(fd)
			t.Fatalf("DNS responder: bind %v: %v", addr, err)
		}
		if typ == unix.SOCK_STREAM {
			if err := unix.Listen(fd, 16); err != nil {
				t.Fatal(err)
			}
		}
		return os.NewFile(uintptr(fd), "dns")
	}
	uf, tf := open(unix.SOCK_DGRAM), open(unix.SOCK_STREAM)
	defer uf.Close()
	defer tf.Close()
	var err error
	if d.udpConn, err = net.FilePacketConn(uf); err != nil {
		t.Fatal(err)
	}
	if d.tcpListen, err = net.FileListener(tf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.udpConn.Close(); d.tcpListen.Close() })
	go d.serveUDP()
	go d.serveTCP()
	return d
}

func (d *dnsResponder) serveUDP() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.udpConn.ReadFrom(buf)
		if err != nil {
			return
		}
		if r := d.answer(buf[:n]); r != nil {
			d.udpConn.WriteTo(r, from)
			d.udp.Add(1)
		}
	}
}

func (d *dnsResponder) serveTCP() {
	for {
		c, err := d.tcpListen.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for range 16 {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				r := d.answer(q)
				if r == nil {
					return
				}
				if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(r))), r...)); err != nil {
					return
				}
				d.tcp.Add(1)
			}
		}()
	}
}

// DNS constants (RFC 1035, RFC 3596).
const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
	dnsClassIN  = 1
)

var errDNSMalformed = errors.New("malformed DNS query")

// parseQuestion returns the first question's name (lower case, with a
// trailing dot), type, and the offset after the question.
func parseQuestion(q []byte) (name string, qtype uint16, end int, err error) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return "", 0, 0, errDNSMalformed
	}
	var b strings.Builder
	i := 12
	for {
		if i >= len(q) {
			return "", 0, 0, errDNSMalformed
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(q) {
			return "", 0, 0, errDNSMalformed
		}
		b.WriteString(strings.ToLower(string(q[i : i+l])))
		b.WriteByte('.')
		i += l
	}
	if i+4 > len(q) {
		return "", 0, 0, errDNSMalformed
	}
	name = b.String()
	if name == "" {
		name = "."
	}
	return name, binary.BigEndian.Uint16(q[i:]), i + 4, nil
}

// answer builds the response to query q, or nil to ignore it: the
// records of the asked type (NOERROR with no answer if the name has none
// of that type), NXDOMAIN for an unknown name. Authoritative; no
// recursion offered.
func (d *dnsResponder) answer(q []byte) []byte {
	name, qtype, end, err := parseQuestion(q)
	if err != nil || q[2]&0x80 != 0 {
		return nil
	}
	r := append([]byte(nil), q[:end]...)
	r[2] = 0x84 | q[2]&0x01 // QR, AA, RD copied
	r[3] = 0
	binary.BigEndian.PutUint16(r[6:], 0)  // ANCOUNT
	binary.BigEndian.PutUint16(r[8:], 0)  // NSCOUNT
	binary.BigEndian.PutUint16(r[10:], 0) // ARCOUNT
	addrs, ok := d.names[name]
	if !ok {
		r[3] = 3 // NXDOMAIN
		return r
	}
	n := 0
	for _, a := range addrs {
		var rdata []byte
		switch {
		case qtype == dnsTypeA && a.Is4():
			v := a.As4()
			rdata = v[:]
		case qtype == dnsTypeAAAA && a.Is6():
			v := a.As16()
			rdata = v[:]
		default:
			continue
		}
		r = append(r, 0xc0, 12) // the question's name
		r = binary.BigEndian.AppendUint16(r, qtype)
		r = binary.BigEndian.AppendUint16(r, dnsClassIN)
		r = binary.BigEndian.AppendUint32(r, 60)
		r = binary.BigEndian.AppendUint16(r, uint16(len(rdata)))
		r = append(r, rdata...)
		n++
	}
	binary.BigEndian.PutUint16(r[6:], uint16(n))
	return r
}
