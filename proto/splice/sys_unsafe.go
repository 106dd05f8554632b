// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw system calls of the data path: golang.org/x/sys/unix returns
// errors as interfaces and Sockaddr values, these return the errno and
// fill memory the Handler owns.

// splice moves up to n bytes from in to out, one of them a pipe.
func splice(in, out, n, flags int) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), uintptr(flags))
	return int(r), e
}

// accept4 accepts a non-blocking, close-on-exec socket into a
// caller-owned raw address.
func accept4(fd int, sa *unix.RawSockaddrAny) (int, unix.Errno) {
	l := uint32(unix.SizeofSockaddrAny)
	r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(sa)),
		uintptr(unsafe.Pointer(&l)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	return int(r), e
}

// rawAddr decodes the address and port of an AF_INET or AF_INET6 raw
// address; IPv4-mapped IPv6 addresses are unmapped.
func rawAddr(sa *unix.RawSockaddrAny) (netip.AddrPort, bool) {
	switch sa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), ntohs(p.Port)), true
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom16(p.Addr).Unmap(), ntohs(p.Port)), true
	}
	return netip.AddrPort{}, false
}

// ntohs converts a port as the kernel stores it in a sockaddr.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
