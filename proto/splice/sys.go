// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
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
