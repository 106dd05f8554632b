// SPDX-License-Identifier: GPL-2.0-or-later

package pcap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// writev writes iov (at least one entry) to fd with one system call and
// no allocation.
func writev(fd int, iov []unix.Iovec) (int, unix.Errno) {
	r, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}
