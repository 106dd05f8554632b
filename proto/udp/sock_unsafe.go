// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw socket calls on preallocated socket addresses and message headers:
// unix.Bind, unix.Connect and unix.Recvmsg box or build per call, these do
// not allocate.

// sockaddr is storage for a sockaddr_in or a sockaddr_in6.
type sockaddr = unix.RawSockaddrInet6

// putSockaddr writes addr:port into sa as a sockaddr_in6 (v6) or a
// sockaddr_in (addr[:4]) and returns its length.
func putSockaddr(sa *sockaddr, v6 bool, addr *[16]byte, port uint16) uint32 {
	b := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(sa))
	clear(b[:])
	b[2], b[3] = byte(port>>8), byte(port)
	if v6 {
		sa.Family = unix.AF_INET6
		sa.Addr = *addr
		return unix.SizeofSockaddrInet6
	}
	s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
	s4.Family = unix.AF_INET
	s4.Addr = [4]byte(addr[:4])
	return unix.SizeofSockaddrInet4
}

// getSockaddr reads a sockaddr_in or sockaddr_in6 written by the kernel.
// For AF_INET6 the address is returned as is (it may be v4-mapped).
func getSockaddr(sa *sockaddr) (v6 bool, addr [16]byte, port uint16, ok bool) {
	b := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(sa))
	port = uint16(b[2])<<8 | uint16(b[3])
	switch sa.Family {
	case unix.AF_INET6:
		return true, sa.Addr, port, true
	case unix.AF_INET:
		copy(addr[:4], b[4:8])
		return false, addr, port, true
	}
	return false, addr, 0, false
}

// bindRaw binds fd to the salen-byte address at sa.
func bindRaw(fd int, sa *sockaddr, salen uint32) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(salen))
	return e
}

// connectRaw connects fd to the salen-byte address at sa.
func connectRaw(fd int, sa *sockaddr, salen uint32) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(salen))
	return e
}

// setMsg points a message header at one iovec over b and, if sa is not
// nil, at a socket address of salen bytes.
func setMsg(m *unix.Msghdr, iov *unix.Iovec, b []byte, sa *sockaddr, salen uint32) {
	iov.Base = unsafe.SliceData(b)
	iov.SetLen(len(b))
	m.Iov = iov
	m.SetIovlen(1)
	if sa != nil {
		m.Name = (*byte)(unsafe.Pointer(sa))
		m.Namelen = salen
	} else {
		m.Name, m.Namelen = nil, 0
	}
	m.Control = nil
	m.SetControllen(0)
	m.Flags = 0
}

// recvmmsg reads up to len(msgs) datagrams from fd without waiting. It
// returns how many were read.
func recvmmsg(fd int, msgs []unix.Mmsghdr) (int, unix.Errno) {
	if len(msgs) == 0 {
		return 0, 0
	}
	r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// sendmmsg sends up to len(msgs) datagrams on fd without waiting. It
// returns how many were sent.
func sendmmsg(fd int, msgs []unix.Mmsghdr) (int, unix.Errno) {
	if len(msgs) == 0 {
		return 0, 0
	}
	r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// sendto sends b on fd, to the salen-byte address at sa, or to the
// connected peer if sa is nil.
func sendto(fd int, b []byte, sa *sockaddr, salen uint32) unix.Errno {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	var sp uintptr
	if sa != nil {
		sp = uintptr(unsafe.Pointer(sa))
	} else {
		salen = 0
	}
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)),
		unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, sp, uintptr(salen))
	return e
}

// recvmsg reads one message from fd with flags (MSG_DONTWAIT is added).
func recvmsg(fd int, m *unix.Msghdr, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(m)), uintptr(flags|unix.MSG_DONTWAIT))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// setControl points m at the control buffer c.
func setControl(m *unix.Msghdr, c []byte) {
	m.Control = unsafe.SliceData(c)
	m.SetControllen(len(c))
}
