// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"errors"
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
//  3. no_new_privs and a seccomp filter built here (waiterProgram) that
//     allows the Go runtime, the netpoller, write (error messages), the
//     wait calls and the signal calls, and kills the process on anything
//     else: no open or openat, no execve, no socket, no ptrace.
//
// Call it after the child is started and the signal handlers installed.
func ConfineWaiter() error {
	prog, err := waiterProgram()
	if err != nil && !errors.Is(err, errNoProgram) {
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
	if prog == nil {
		return nil // 386, arm: see waiter_noarch.go
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

// cloneFlagsOff is where clone's flags are in struct seccomp_data.
func cloneFlagsOff() uint32 {
	if offCloneFlags != 0 {
		return offCloneFlags
	}
	return offArg0
}

// goCloneFlags are the flags of the Go runtime's clone of a new thread
// (runtime.cloneFlags): CLONE_VM|FS|FILES|SIGHAND|SYSVSEM|THREAD|SETTLS.
// Any other clone, a fork or new namespaces, is refused.
const goCloneFlags = 0xd0f00

// Classic BPF opcodes of a seccomp program.
const (
	bpfLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	// Offsets in struct seccomp_data.
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low half on a little-endian machine
	offArg1 = 24
)

// waiterProgram assembles the filter of ConfineWaiter for this
// architecture: wrong architecture (and on amd64 the x32 ABI) kills,
// clone only with goCloneFlags, prctl only PR_SET_VMA, the syscalls of
// waiterSyscalls allowed, anything else kills the process.
func waiterProgram() ([]unix.SockFilter, error) {
	if auditArch == 0 {
		return nil, errNoProgram
	}
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: bpfJeqK, Jt: jt, Jf: jf, K: k}
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		kill  = unix.SECCOMP_RET_KILL_PROCESS
	)
	p := []unix.SockFilter{
		stmt(bpfLdAbsW, offArch),
		jeq(auditArch, 1, 0),
		stmt(bpfRetK, kill),
		stmt(bpfLdAbsW, offNr),
	}
	if syscallBitX32 != 0 {
		p = append(p, unix.SockFilter{Code: bpfJgeK, Jt: 0, Jf: 1, K: syscallBitX32}, stmt(bpfRetK, kill))
	}
	// Each allowed number: "if nr == N return allow".
	for _, nr := range waiterSyscalls {
		p = append(p, jeq(uint32(nr), 0, 1), stmt(bpfRetK, allow))
	}
	p = append(p,
		// clone: the low half of the flags (the Go runtime passes only it)
		jeq(uint32(unix.SYS_CLONE), 0, 2),
		stmt(bpfLdAbsW, cloneFlagsOff()),
		jeq(goCloneFlags, 4, 5),
		// prctl: arg0
		jeq(uint32(unix.SYS_PRCTL), 0, 4),
		stmt(bpfLdAbsW, offArg0),
		jeq(unix.PR_SET_VMA, 1, 2),
		stmt(bpfRetK, kill), // not reached
		stmt(bpfRetK, allow),
		stmt(bpfRetK, kill),
	)
	return p, nil
}
