// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The sockets forwarded traffic arrives on: listening TCP sockets (-t on
// the host, -T inside the namespace) and bound UDP sockets (-u, -U),
// opened the same way for every handler. Mirrors sock_l4_sa() in passt's
// util.c and pif_sock_l4() in pif.c.

// SocketFunc opens a socket as socket(2) does. pasta passes one that
// opens it inside the target namespace (netns.Worker) for -T and -U.
type SocketFunc func(domain, typ, proto int) (int, error)

// ListenSpec says where a forwarding socket listens. The caller decides
// the family and IPV6_V6ONLY: the handlers differ there (see each
// handler's listen), and a spec states it rather than a guess here.
type ListenSpec struct {
	Type   int        // unix.SOCK_STREAM (bound, then listen(2)) or unix.SOCK_DGRAM (bound)
	Addr   netip.Addr // local address, unmapped; invalid: the wildcard of the family V6 names
	V6     bool       // with an invalid Addr: an AF_INET6 socket on "::", else AF_INET on 0.0.0.0
	V6Only bool       // an AF_INET6 socket gets IPV6_V6ONLY; false: dual-stack
	Iface  string     // SO_BINDTODEVICE; "": any interface
	Port   uint16     // 0: the kernel picks one (LocalPort tells which)
	// Freebind sets IP_FREEBIND (IPv4) or IPV6_FREEBIND (IPv6): Addr
	// may be an address not (yet) configured on the host (--freebind).
	Freebind bool
	Socket   SocketFunc   // nil: socket(2) in the calling thread's namespace
	Setup    func(fd int) // further options, set before bind (UDP buffer sizes); nil: none
}

// Listen opens a non-blocking, close-on-exec socket as s says, with
// SO_REUSEADDR, IPV6_V6ONLY as s.V6Only (AF_INET6), IP(V6)_FREEBIND
// (s.Freebind) and SO_BINDTODEVICE (s.Iface), binds it and, for SOCK_STREAM, listens with a backlog of
// SOMAXCONN. It returns the socket; on error it has closed it, and the
// error names the step and the address (errors.Is sees the errno). Not
// for the hot path: it allocates.
func Listen(s ListenSpec) (int, error) {
	v6 := s.V6
	if s.Addr.IsValid() {
		v6 = !s.Addr.Is4()
	}
	domain := unix.AF_INET
	if v6 {
		domain = unix.AF_INET6
	}
	proto := unix.IPPROTO_TCP
	if s.Type == unix.SOCK_DGRAM {
		proto = unix.IPPROTO_UDP
	}
	open := s.Socket
	if open == nil {
		open = unix.Socket
	}
	where := fmt.Sprintf("%v port %d", s.Addr, s.Port)
	if !s.Addr.IsValid() {
		where = fmt.Sprintf("%v port %d", netip.IPv4Unspecified(), s.Port)
		if v6 {
			where = fmt.Sprintf("%v port %d", netip.IPv6Unspecified(), s.Port)
		}
	}
	fd, err := open(domain, s.Type|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, fmt.Errorf("socket for %s: %w", where, err)
	}
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("%s for %s: %w", what, where, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("SO_REUSEADDR", err)
	}
	if s.Setup != nil {
		s.Setup(fd)
	}
	if s.Freebind {
		level, opt := unix.IPPROTO_IP, unix.IP_FREEBIND
		if v6 {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_FREEBIND
		}
		if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
			return fail("IP_FREEBIND", err)
		}
	}
	var sa unix.Sockaddr
	if v6 {
		only := 0
		if s.V6Only {
			only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, only); err != nil {
			return fail("IPV6_V6ONLY", err)
		}
		a := &unix.SockaddrInet6{Port: int(s.Port)}
		if s.Addr.IsValid() {
			a.Addr = s.Addr.As16()
		}
		sa = a
	} else {
		a := &unix.SockaddrInet4{Port: int(s.Port)}
		if s.Addr.IsValid() {
			a.Addr = s.Addr.As4()
		}
		sa = a
	}
	if s.Iface != "" {
		if err := unix.BindToDevice(fd, s.Iface); err != nil {
			return fail("SO_BINDTODEVICE "+s.Iface, err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if s.Type == unix.SOCK_STREAM {
		if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
			return fail("listen", err)
		}
	}
	return fd, nil
}

// LocalPort returns the local port of socket fd, 0 if it has none or
// getsockname(2) fails. Not for the hot path: it allocates.
func LocalPort(fd int) uint16 {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return uint16(a.Port)
	case *unix.SockaddrInet6:
		return uint16(a.Port)
	}
	return 0
}
