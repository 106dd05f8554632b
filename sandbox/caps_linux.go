// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
)

// allThreadsSyscall runs a syscall on every thread of the Go runtime. It
// fails with ENOTSUP in cgo binaries, which is why the daemons are built
// with CGO_ENABLED=0.
var allThreadsSyscall = syscall.AllThreadsSyscall

// maxCap bounds the PR_CAPBSET_DROP loop; the kernel answers EINVAL past
// its last capability (cap_last_cap, 40 in Linux 6.x).
const maxCap = 63

// DropCaps reduces the capabilities of every thread to keep: it empties the
// bounding set (PR_CAPBSET_DROP of each capability, while CAP_SETPCAP is
// still effective), clears the ambient set, and sets permitted = effective
// = keep with an empty inheritable set (capset). Mirrors clamp_caps() and
// the final capset of isolate_prefork() in passt's isolation.c.
//
// Capabilities are per thread in Linux. capset or gocapability's Apply on
// one thread leave the runtime's other threads with all their privileges
// (reproduced in GO-SANDBOX.md §4.3), so every step runs through
// syscall.AllThreadsSyscall. gocapability is used only for names.
//
// EPERM from PR_CAPBSET_DROP (no CAP_SETPCAP, e.g. an unprivileged run
// without a user namespace) is ignored, as passt does: with an empty
// permitted set, no_new_privs and execve refused by seccomp, the bounding
// set can no longer grant anything.
func DropCaps(keep []capability.Cap) error { return dropCaps(keep, nil) }

// dropCaps is DropCaps, switching to ids (if not nil) between the bounding
// set and the capset: leaving uid 0 empties the permitted set, so the
// bounding set must go first, while CAP_SETPCAP is still there. The final
// capset then only confirms the empty sets; nothing can be kept across the
// switch.
func dropCaps(keep []capability.Cap, ids *IDs) error {
	if ids != nil && len(keep) > 0 {
		return fmt.Errorf("drop capabilities: cannot keep %v when switching to uid %d", keep, ids.UID)
	}
	var mask uint64
	for _, c := range keep {
		if c < 0 || c > maxCap {
			return fmt.Errorf("drop capabilities: bad capability %d", int(c))
		}
		mask |= 1 << uint(c)
	}
	bset := true
	for c := uintptr(0); c <= maxCap; c++ {
		_, _, e := allThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0)
		if e == unix.EINVAL {
			break // past cap_last_cap
		}
		if e == unix.EPERM {
			bset = false
			break
		}
		if e != 0 {
			return fmt.Errorf("prctl(PR_CAPBSET_DROP, %s) on all threads: %w", capability.Cap(c), errnoErr(e))
		}
	}
	if _, _, e := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); e != 0 && e != unix.EINVAL {
		return fmt.Errorf("prctl(PR_CAP_AMBIENT_CLEAR_ALL) on all threads: %w", errnoErr(e))
	}
	if ids != nil {
		if err := setIDs(*ids); err != nil {
			return err
		}
		state.RunAs = ids
	}
	if err := capsetAllThreads(mask); err != nil {
		return err
	}
	state.CapsDropped, state.BoundingCleared, state.KeptCaps = true, bset, mask
	return nil
}

// errnoErr turns ENOTSUP from AllThreadsSyscall into an explanation.
func errnoErr(e syscall.Errno) error {
	if e == syscall.ENOTSUP {
		return errors.Join(e, errors.New("AllThreadsSyscall is unavailable in cgo binaries: build with CGO_ENABLED=0"))
	}
	return e
}

// BecomeUser makes a process that stays in the caller's namespaces give up
// root for good: it empties the bounding and ambient sets, switches every
// thread to ids and confirms empty capability sets (as Enter does with
// Options.RunAs), then makes the process dumpable again, which the switch
// cleared: a non-dumpable process's child, once in a user namespace of
// its own, may not execute /proc/self/exe (EACCES), which is how Reexec
// starts it. ConfineWaiter clears the flag again. passt's launcher calls
// BecomeUser when started as root, after binding every socket and before
// starting the sandboxed process, whose root then maps to ids.
func BecomeUser(ids IDs) error {
	if err := dropCaps(nil, &ids); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 1): %w", err)
	}
	return nil
}
