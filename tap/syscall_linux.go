// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxEINTR bounds retries of a system call interrupted by a signal.
const maxEINTR = 8

// read is read(2) into b without allocation. EINTR is retried.
func read(fd int, b []byte) (int, unix.Errno) { return rw(unix.SYS_READ, fd, b) }

// write is write(2) of b without allocation. EINTR is retried.
func write(fd int, b []byte) (int, unix.Errno) { return rw(unix.SYS_WRITE, fd, b) }

// rw is read(2) or write(2), as trap says, without allocation.
func rw(trap uintptr, fd int, b []byte) (int, unix.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	return retried(trap, fd, unsafe.Pointer(&b[0]), len(b))
}

// retried makes the system call trap(fd, p, n), again while it fails with
// EINTR (at most maxEINTR times). The device's fds never block, and the
// calls are raw (RawSyscall): a frame of 64 KiB takes long enough for the
// runtime to hand the loop's P to another thread and wake threads to get
// it back (see epollWait in package engine).
func retried(trap uintptr, fd int, p unsafe.Pointer, n int) (int, unix.Errno) {
	var (
		r     uintptr
		errno unix.Errno
	)
	for range maxEINTR {
		r, _, errno = unix.RawSyscall(trap, uintptr(fd), uintptr(p), uintptr(n))
		if errno != unix.EINTR {
			break
		}
	}
	if errno != 0 {
		return 0, errno
	}
	return int(r), 0
}

// readv is readv(2) into iov without allocation. EINTR is retried.
func readv(fd int, iov []unix.Iovec) (int, unix.Errno) { return rwv(unix.SYS_READV, fd, iov) }

// writev is writev(2) of iov without allocation. EINTR is retried.
func writev(fd int, iov []unix.Iovec) (int, unix.Errno) { return rwv(unix.SYS_WRITEV, fd, iov) }

// rwv is readv(2) or writev(2), as trap says, without allocation.
func rwv(trap uintptr, fd int, iov []unix.Iovec) (int, unix.Errno) {
	return retried(trap, fd, unsafe.Pointer(&iov[0]), len(iov))
}

// sendmsg is sendmsg(2) with MSG_NOSIGNAL|MSG_DONTWAIT: a peer that went
// away gives EPIPE, not SIGPIPE. EINTR is retried.
func sendmsg(fd int, msg *unix.Msghdr) (int, unix.Errno) {
	var (
		r     uintptr
		errno unix.Errno
	)
	for range maxEINTR {
		r, _, errno = unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
		if errno != unix.EINTR {
			break
		}
	}
	if errno != 0 {
		return 0, errno
	}
	return int(r), 0
}
