// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw system calls of accepting on a listener: golang.org/x/sys/unix
// returns a fresh Sockaddr, which allocates; these fill memory the
// handler owns and return the errno.

// Accept accepts a connection on listener fd as a non-blocking,
// close-on-exec socket, with the peer's address in sa. No allocation.
func Accept(fd int, sa *unix.RawSockaddrAny) (int, unix.Errno) {
	l := uint32(unix.SizeofSockaddrAny)
	r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(sa)),
		uintptr(unsafe.Pointer(&l)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	return int(r), e
}

// RawAddrPort decodes an AF_INET or AF_INET6 raw address, as Accept fills
// it; IPv4-mapped IPv6 addresses are unmapped. False for any other
// family. No allocation.
func RawAddrPort(sa *unix.RawSockaddrAny) (netip.AddrPort, bool) {
	switch sa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), bePort(&p.Port)), true
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom16(p.Addr).Unmap(), bePort(&p.Port)), true
	}
	return netip.AddrPort{}, false
}

// bePort reads a port stored in network byte order.
func bePort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// BindOutbound applies --outbound-if4/--outbound-if6 to a new outbound
// socket fd (TCP, UDP or ping) for destination dst: SO_BINDTODEVICE
// ifname, unless ifname is "" or dst is a loopback address (the host's
// own loopback is not behind the outbound interface), as passt's
// flowside_sock_l4(). Unprivileged since Linux 5.7, on a socket not bound
// to a device yet. No allocation.
func BindOutbound(fd int, ifname string, dst netip.Addr) unix.Errno {
	if ifname == "" || dst.IsLoopback() {
		return 0
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE,
		uintptr(unsafe.Pointer(unsafe.StringData(ifname))), uintptr(len(ifname)), 0)
	return e
}
