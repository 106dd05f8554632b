// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"

	"github.com/landlock-lsm/go-landlock/landlock"
	"golang.org/x/sys/unix"
)

// ConfineWaiter confines a process that must stay in the caller's user
// and mount namespaces and does nothing but wait for its child and forward
// signals to it: the foreground launchers of passt (-f) and pasta. It can
// have neither an empty root (no mount namespace of its own) nor, as an
// unprivileged user, an empty bounding set, so it gets two walls instead:
//
//  0. Limits: no core dumps, not dumpable (no ptrace by the same user);
//  1. DropCaps: no effective, permitted, inheritable or ambient
//     capability; the bounding set emptied where CAP_SETPCAP allows (root).
//  2. Landlock (best effort by the kernel's ABI): no file system access
//     and no TCP bind or connect. Signal scoping is left out: the process
//     must still signal its child, which is outside its domain.
//  3. no_new_privs and the waiter filter of seccomp.profile ([runtime]
//     and [waiter], embedded as filters/seccomp_waiter_<goarch>.bpf) that
//     allows the Go runtime, the netpoller, write (error messages), the
//     wait calls and the signal calls, and kills the process on anything
//     else: no open or openat, no execve, no socket, no ptrace.
//
// Call it after the child is started and the signal handlers installed.
// It fails on an architecture seccomp.profile is not compiled for.
func ConfineWaiter() error {
	prog, err := namedProgram(modeWaiter, ActionKill)
	if err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	if err := Limits(); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	if err := DropCaps(nil); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	if err := LandlockNoAccess(); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	if err := setNoNewPrivs(); err != nil {
		return fmt.Errorf("confine: %w", err)
	}
	tid, err := seccompSetFilter(prog, unix.SECCOMP_FILTER_FLAG_TSYNC)
	if err != nil {
		return fmt.Errorf("confine: seccomp(SET_MODE_FILTER, TSYNC): %w", err)
	}
	if tid != 0 {
		return fmt.Errorf("confine: seccomp: thread %d could not be synchronised", tid)
	}
	state.Seccomp, state.Action, state.Instructions = true, ActionKill, len(prog)
	return nil
}

// LandlockNoAccess restricts every thread, with Landlock at the best ABI
// the kernel offers, to no file system access at all and no TCP bind or
// connect (it sets no_new_privs, which Landlock needs). On a kernel
// without Landlock it does nothing; the seccomp filter is the first wall
// anyway. Signal and abstract-socket scoping are not used: a launcher
// must signal its child, which is outside its domain.
func LandlockNoAccess() error {
	ll := landlock.V11.BestEffort()
	if err := ll.RestrictPaths(); err != nil {
		return fmt.Errorf("landlock (file system): %w", err)
	}
	if err := ll.RestrictNet(); err != nil {
		return fmt.Errorf("landlock (network): %w", err)
	}
	state.Landlock = landlockABI() > 0
	return nil
}

// landlockABI returns the kernel's Landlock ABI version, 0 without
// Landlock (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION;
// syscall 444 on every architecture).
func landlockABI() int {
	const sysLandlockCreateRuleset, createRulesetVersion = 444, 1
	v, _, e := unix.Syscall(sysLandlockCreateRuleset, 0, 0, createRulesetVersion)
	if e != 0 {
		return 0
	}
	return int(v)
}
