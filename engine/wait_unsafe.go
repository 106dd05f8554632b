// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epollWait is epoll_pwait(2) with no signal mask, made as a raw system
// call: the Go runtime is not told that the thread blocks.
//
// Through unix.EpollWait every wait is a system call the runtime tracks:
// when the loop waits longer than 20 µs, which is every time a host or
// guest takes its turn, the runtime's monitor thread takes the loop's P
// away and hands it to another thread, and getting it back on the way
// out costs futex wake-ups between threads and keeps the monitor polling
// every 20 µs (per request/response round trip over the tap, strace
// counted one futex call and two nanosleeps besides the loop's own
// calls). A raw call leaves the P with the loop, which is the process's
// only busy goroutine. It is used for waits of at most a tick (10 ms);
// longer, idle waits go through the runtime, which may then run other
// goroutines and let its monitor sleep. Nothing else goes hungry: with
// the daemons' single P the other goroutines (signals, the stop request,
// the command's exit) run when the loop yields, once a tick; the
// runtime's preemption signal ends a raw wait early with EINTR (the loop
// yields at its next function call: a stop-the-world for the rare
// garbage collection waits for one wake-up, not for a tick).
func epollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	var p unsafe.Pointer
	if len(events) > 0 {
		p = unsafe.Pointer(&events[0])
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(p),
		uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
