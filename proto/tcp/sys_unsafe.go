// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw system calls of the data path. golang.org/x/sys/unix wraps them
// with Sockaddr values or fresh iovec slices, which allocate; these take
// memory the Handler owns. The calls on the socket never block
// (MSG_DONTWAIT, non-blocking sockets), and the data calls are made with
// RawSyscall: a peek or send of 64 KiB takes more than the 20 µs after
// which the runtime would hand the loop's P to another thread and wake
// threads to get it back (see epollWait in package engine).

// recvmsgIov reads into iov with flags (MSG_PEEK, MSG_DONTWAIT).
func recvmsgIov(fd int, iov []unix.Iovec, flags int) (int, unix.Errno) {
	if len(iov) == 0 {
		return 0, 0
	}
	var msg unix.Msghdr
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	return int(n), e
}

// discard drops n bytes from the head of the receive queue without copying
// them (MSG_TRUNC on a TCP socket).
func discard(fd, n int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), 0, uintptr(n),
		unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
	return int(r), e
}

// send writes p without blocking and without SIGPIPE.
func send(fd int, p []byte) (int, unix.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
		unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	return int(r), e
}

// sendIov writes the buffers of iov, in order, with one sendmsg, without
// blocking and without SIGPIPE; msg is the caller's, filled here.
func sendIov(fd int, iov []unix.Iovec, msg *unix.Msghdr) (int, unix.Errno) {
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	r, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)),
		unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	return int(r), e
}

// getsockoptInt reads an int option into caller-owned memory.
func getsockoptInt(fd, level, opt int, v *int32) unix.Errno {
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(v)), uintptr(unsafe.Pointer(&l)), 0)
	return e
}

// getsockoptBytes reads a string option into caller-owned memory and
// returns its length.
func getsockoptBytes(fd, level, opt int, b []byte) (int, unix.Errno) {
	l := uint32(len(b))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&l)), 0)
	return int(l), e
}

// setsockoptBytes sets a string option from caller-owned memory.
func setsockoptBytes(fd, level, opt int, b []byte) unix.Errno {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	return e
}

// ioctlInt reads an int ioctl (SIOCOUTQ) into caller-owned memory.
func ioctlInt(fd int, req uintptr, v *int32) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(v)))
	return e
}
