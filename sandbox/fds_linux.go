// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Initial is the first stage, called first thing in main. Mirrors
// isolate_initial() and isolate_fds() in passt's isolation.c, adapted to Go:
//
//   - every fd ≥ 3 becomes close-on-exec (close_range with
//     CLOSE_RANGE_CLOEXEC), except those in keep, which are made inheritable.
//     passt closes them outright; in Go that would close the runtime's own
//     epoll, eventfd and cgroup fds ("fatal error: runtime: netpoll
//     failed"). Marking them CLOEXEC has the same effect at the re-exec:
//     the sandboxed process starts with stdio plus exactly the files handed
//     to Reexec.
//   - RLIMIT_NOFILE soft = hard, as passt's main does, so that the flow
//     table is bounded by the hard limit alone.
//
// passt's isolate_initial also drops most capabilities here. Stage one of a
// Go daemon keeps them: it still opens the tap, binds low ports and writes
// the ID maps of the re-exec, and dropping them on one thread would be
// meaningless; the sandboxed process drops everything on all threads in
// DropCaps.
func Initial(keep ...int) error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		// Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: walk /proc/self/fd.
		if err != unix.EINVAL && err != unix.ENOSYS {
			return fmt.Errorf("close_range(3, ~0, CLOEXEC): %w", err)
		}
		if err := cloexecByProc(); err != nil {
			return err
		}
	}
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("keep fd %d: %w", fd, err)
		}
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("getrlimit(RLIMIT_NOFILE): %w", err)
	}
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("setrlimit(RLIMIT_NOFILE, %d): %w", rl.Max, err)
	}
	return nil
}

func cloexecByProc() error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 3 || fd == int(d.Fd()) {
			continue
		}
		unix.CloseOnExec(fd)
	}
	return nil
}
