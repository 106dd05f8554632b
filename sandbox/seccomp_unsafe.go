// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompSetFilter calls seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) and
// returns its non-negative result (with TSYNC: 0, or the ID of a thread
// that could not be synchronised).
func seccompSetFilter(prog []unix.SockFilter, flags uintptr) (int, error) {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	runtime.KeepAlive(&fprog)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
