// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestIntegrationUDPPortUnreachable: a datagram from the namespace to a
// closed port of the host's loopback (through the mapped gateway) comes
// back as an ICMP port unreachable, so that a connected client sees
// ECONNREFUSED at once (< 1 s), over IPv4 and IPv6.
func TestIntegrationUDPPortUnreachable(t *testing.T) {
	requireRoot(t)
	hostNs := udpHostNs(t)
	p := startPastaNs(t, hostNs, pastaBin, "gopasst")
	hostSock := udpNsSocket(t, hostNsPath(hostNs))
	nsSock := udpNsSocket(t, p.nsPath())

	tests := []struct {
		name string
		gw   netip.Addr
		lo   netip.Addr
	}{
		{"ipv4", netip.MustParseAddr(uhGw4), netip.MustParseAddr("127.0.0.1")},
		{"ipv6", netip.MustParseAddr(uhGw6), netip.IPv6Loopback()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			af := unix.AF_INET
			if tt.gw.Is6() {
				af = unix.AF_INET6
			}
			sa := func(a netip.Addr, port int) unix.Sockaddr {
				if a.Is4() {
					return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
				}
				return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
			}
			// A port that is closed on the host's loopback: bound, then
			// closed, and checked again below with a live server.
			fd, err := hostSock(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Bind(fd, sa(tt.lo, 0)); err != nil {
				t.Fatal(err)
			}
			lsa, _ := unix.Getsockname(fd)
			port := 0
			switch s := lsa.(type) {
			case *unix.SockaddrInet4:
				port = s.Port
			case *unix.SockaddrInet6:
				port = s.Port
			}
			unix.Close(fd)

			cl, err := nsSock(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(cl)
			if err := unix.SetsockoptTimeval(cl, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1}); err != nil {
				t.Fatal(err)
			}
			if err := unix.Connect(cl, sa(tt.gw, port)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := unix.Write(cl, []byte("anyone there?")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			_, _, err = unix.Recvfrom(cl, buf, 0)
			elapsed := time.Since(start)
			if !errors.Is(err, unix.ECONNREFUSED) {
				t.Fatalf("recv from %v port %d: %v after %v, want ECONNREFUSED within 1 s", tt.gw, port, err, elapsed)
			}
			t.Logf("ECONNREFUSED after %v", elapsed.Round(time.Microsecond))

			// Control: with a server on that port, the same client gets
			// its echo (so the refusal above was about the closed port).
			srvFd, err := hostSock(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Bind(srvFd, sa(tt.lo, port)); err != nil {
				unix.Close(srvFd)
				t.Fatal(err)
			}
			f := fileFromFd(srvFd)
			srv, err := net.FilePacketConn(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			go func() {
				b := make([]byte, 100)
				srv.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, from, err := srv.ReadFrom(b)
				if err == nil {
					srv.WriteTo(b[:n], from)
				}
			}()
			if _, err := unix.Write(cl, []byte("echo")); err != nil {
				t.Fatal(err)
			}
			n, _, err := unix.Recvfrom(cl, buf, 0)
			if err != nil || string(buf[:n]) != "echo" {
				t.Fatalf("with a server: %q, %v", buf[:n], err)
			}
		})
	}
}
