// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sockDomain returns the address family of socket fd.
func sockDomain(t *testing.T, fd int) int {
	t.Helper()
	d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestListen(t *testing.T) {
	lo4, lo6 := Loopback(false), Loopback(true)
	tests := []struct {
		name       string
		spec       ListenSpec
		wantDomain int
		wantV6Only int // -1: not an AF_INET6 socket
		dial       []netip.Addr
		noDial     []netip.Addr
	}{
		{"tcp v4", ListenSpec{Type: unix.SOCK_STREAM, Addr: lo4}, unix.AF_INET, -1, []netip.Addr{lo4}, nil},
		{"tcp v6 only", ListenSpec{Type: unix.SOCK_STREAM, Addr: lo6, V6Only: true}, unix.AF_INET6, 1, []netip.Addr{lo6}, []netip.Addr{lo4}},
		{"tcp dual wildcard", ListenSpec{Type: unix.SOCK_STREAM, V6: true}, unix.AF_INET6, 0, []netip.Addr{lo4, lo6}, nil},
		{"tcp v4 wildcard", ListenSpec{Type: unix.SOCK_STREAM}, unix.AF_INET, -1, []netip.Addr{lo4}, []netip.Addr{lo6}},
		{"udp v6 wildcard only", ListenSpec{Type: unix.SOCK_DGRAM, V6: true, V6Only: true}, unix.AF_INET6, 1, nil, nil},
		{"udp v4", ListenSpec{Type: unix.SOCK_DGRAM, Addr: lo4}, unix.AF_INET, -1, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup := 0
			tt.spec.Setup = func(int) { setup++ }
			fd, err := Listen(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if setup != 1 {
				t.Errorf("Setup called %d times", setup)
			}
			if d := sockDomain(t, fd); d != tt.wantDomain {
				t.Errorf("domain %d, want %d", d, tt.wantDomain)
			}
			if tt.wantV6Only >= 0 {
				if v, _ := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); v != tt.wantV6Only {
					t.Errorf("IPV6_V6ONLY %d, want %d", v, tt.wantV6Only)
				}
			}
			if typ, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); typ != tt.spec.Type {
				t.Errorf("type %d, want %d", typ, tt.spec.Type)
			}
			if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
				t.Error("not non-blocking")
			}
			port := LocalPort(fd)
			if port == 0 {
				t.Fatal("no local port")
			}
			for _, a := range tt.dial {
				c, err := net.Dial("tcp", net.JoinHostPort(a.String(), strconv.Itoa(int(port))))
				if err != nil {
					t.Errorf("dial %v: %v", a, err)
					continue
				}
				c.Close()
			}
			for _, a := range tt.noDial {
				if c, err := net.Dial("tcp", net.JoinHostPort(a.String(), strconv.Itoa(int(port)))); err == nil {
					c.Close()
					t.Errorf("dial %v: connected, want refused", a)
				}
			}
		})
	}
}

func TestListenErrors(t *testing.T) {
	opened := -1
	socket := func(domain, typ, proto int) (int, error) {
		fd, err := unix.Socket(domain, typ, proto)
		opened = fd
		return fd, err
	}
	_, err := Listen(ListenSpec{Type: unix.SOCK_STREAM, Addr: Loopback(false), Iface: "no-such-if0", Socket: socket})
	if err == nil {
		t.Fatal("SO_BINDTODEVICE to a missing interface succeeded")
	}
	if _, e := unix.FcntlInt(uintptr(opened), unix.F_GETFD, 0); !errors.Is(e, unix.EBADF) {
		t.Errorf("socket %d left open after the error (%v)", opened, e)
	}
	_, err = Listen(ListenSpec{Type: unix.SOCK_DGRAM, V6: true, Socket: func(int, int, int) (int, error) {
		return -1, unix.EAFNOSUPPORT
	}})
	if !errors.Is(err, unix.EAFNOSUPPORT) {
		t.Errorf("err %v, want one that is EAFNOSUPPORT", err)
	}
}

// TestAccept accepts an IPv4 client on a dual-stack listener: the peer
// comes back unmapped, with its port, and accepting allocates nothing.
// TestListenFreebind: an address the host does not have (TEST-NET-2,
// 2001:db8::/32) cannot be bound, unless with Freebind.
func TestListenFreebind(t *testing.T) {
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_nonlocal_bind"); strings.TrimSpace(string(b)) != "0" {
		t.Skip("net.ipv4.ip_nonlocal_bind is not 0")
	}
	for _, a := range []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8:9::77")} {
		for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM} {
			s := ListenSpec{Type: typ, Addr: a, V6Only: true}
			if fd, err := Listen(s); err == nil {
				unix.Close(fd)
				t.Fatalf("%v type %d: bound without Freebind", a, typ)
			} else if !errors.Is(err, unix.EADDRNOTAVAIL) {
				t.Fatalf("%v type %d: %v, want EADDRNOTAVAIL", a, typ, err)
			}
			s.Freebind = true
			fd, err := Listen(s)
			if err != nil {
				t.Fatalf("%v type %d with Freebind: %v", a, typ, err)
			}
			level, opt := unix.IPPROTO_IP, unix.IP_FREEBIND
			if a.Is6() {
				level, opt = unix.IPPROTO_IPV6, unix.IPV6_FREEBIND
			}
			if v, err := unix.GetsockoptInt(fd, level, opt); err != nil || v != 1 {
				t.Errorf("%v: freebind option = %d, %v", a, v, err)
			}
			unix.Close(fd)
		}
	}
}

func TestAccept(t *testing.T) {
	fd, err := Listen(ListenSpec{Type: unix.SOCK_STREAM, V6: true})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	port := strconv.Itoa(int(LocalPort(fd)))
	var sa unix.RawSockaddrAny
	for _, a := range []netip.Addr{Loopback(false), Loopback(true)} {
		c, err := net.Dial("tcp", net.JoinHostPort(a.String(), port))
		if err != nil {
			t.Fatal(err)
		}
		want := c.LocalAddr().(*net.TCPAddr).AddrPort()
		s, e := Accept(fd, &sa)
		c.Close()
		if e != 0 {
			t.Fatalf("accept: %v", e)
		}
		unix.Close(s)
		got, ok := RawAddrPort(&sa)
		if !ok || got.Addr() != want.Addr().Unmap() || got.Port() != want.Port() {
			t.Errorf("peer %v %v, want %v", got, ok, want)
		}
	}
	if _, e := Accept(fd, &sa); e != unix.EAGAIN {
		t.Errorf("accept with nothing pending: %v, want EAGAIN", e)
	}
	if allocs := testing.AllocsPerRun(10, func() {
		Accept(fd, &sa)
		RawAddrPort(&sa)
	}); allocs != 0 {
		t.Errorf("Accept and RawAddrPort allocate %v times", allocs)
	}
}
