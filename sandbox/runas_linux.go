// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"
	"syscall"
)

// IDs are the user and group a confined process switches to (--runas), in
// the user namespace it runs in.
type IDs struct {
	UID, GID uint32
}

// setIDs drops the supplementary groups and sets the real, effective and
// saved user and group IDs of every thread to ids. Mirrors isolate_user()
// in passt's isolation.c. syscall.Setgroups, Setgid and Setuid run on all
// threads in a Go binary without cgo (they use AllThreadsSyscall, as
// glibc's setxid broadcast does for C).
//
// Leaving uid 0 without SECBIT_KEEP_CAPS empties the permitted, effective
// and ambient sets on each thread, but not the bounding set, and
// PR_CAPBSET_DROP needs CAP_SETPCAP: DropCaps therefore clears the
// bounding set first and calls setIDs afterwards.
func setIDs(ids IDs) error {
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups(0) on all threads: %w", errnoErr(toErrno(err)))
	}
	if err := syscall.Setgid(int(ids.GID)); err != nil {
		return fmt.Errorf("setgid(%d) on all threads: %w", ids.GID, errnoErr(toErrno(err)))
	}
	if err := syscall.Setuid(int(ids.UID)); err != nil {
		return fmt.Errorf("setuid(%d) on all threads: %w", ids.UID, errnoErr(toErrno(err)))
	}
	return nil
}

func toErrno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EINVAL
}
