// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"golang.org/x/sys/unix"
)

// The raw system calls of the data path: golang.org/x/sys/unix returns
// errors as interfaces and Sockaddr values, these return the errno and
// fill memory the Handler owns. splice never blocks here (non-blocking
// sockets, SPLICE_F_NONBLOCK) and is made with RawSyscall: moving a pipe
// of a megabyte takes long enough for the runtime to hand the loop's P
// to another thread and wake threads to get it back (see epollWait in
// package engine).

// splice moves up to n bytes from in to out, one of them a pipe.
func splice(in, out, n, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), uintptr(flags))
	return int(r), e
}
