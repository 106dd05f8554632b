// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw socket calls with preallocated socket addresses: unix.Recvfrom and
// unix.Bind box a Sockaddr interface per call, these do not allocate.

// bindRaw binds fd to the socket address at sa (salen bytes).
func bindRaw(fd int, sa unsafe.Pointer, salen uint32) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(sa), uintptr(salen))
	return e
}

// bind4 binds fd to sa.
func bind4(fd int, sa *unix.RawSockaddrInet4) unix.Errno {
	return bindRaw(fd, unsafe.Pointer(sa), unix.SizeofSockaddrInet4)
}

// bind6 binds fd to sa.
func bind6(fd int, sa *unix.RawSockaddrInet6) unix.Errno {
	return bindRaw(fd, unsafe.Pointer(sa), unix.SizeofSockaddrInet6)
}

// sendtoRaw sends b on fd to the address at sa (salen bytes).
func sendtoRaw(fd int, b []byte, sa unsafe.Pointer, salen uint32) unix.Errno {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)),
		unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, uintptr(sa), uintptr(salen))
	return e
}

// sendto4 sends b on fd to sa.
func sendto4(fd int, b []byte, sa *unix.RawSockaddrInet4) unix.Errno {
	return sendtoRaw(fd, b, unsafe.Pointer(sa), unix.SizeofSockaddrInet4)
}

// sendto6 sends b on fd to sa.
func sendto6(fd int, b []byte, sa *unix.RawSockaddrInet6) unix.Errno {
	return sendtoRaw(fd, b, unsafe.Pointer(sa), unix.SizeofSockaddrInet6)
}

// recvfrom reads one datagram from fd into b, and its source address into
// sa (which must have room for a sockaddr_in6). It returns the datagram
// length and the address length.
func recvfrom(fd int, b []byte, sa *unix.RawSockaddrInet6) (n int, salen uint32, errno unix.Errno) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	salen = unix.SizeofSockaddrInet6
	r, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(&salen)))
	if e != 0 {
		return 0, 0, e
	}
	return int(r), salen, 0
}

// sockaddr4 reinterprets the source address buffer as sockaddr_in.
func sockaddr4(sa *unix.RawSockaddrInet6) *unix.RawSockaddrInet4 {
	return (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
}
