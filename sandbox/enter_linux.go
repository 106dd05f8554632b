// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"
	"time"

	"github.com/syndtr/gocapability/capability"

	"gopasst/policy"
)

// Options tune Enter.
type Options struct {
	// Action is the filter's answer to a syscall outside the profile.
	// The zero value, ActionKill, is the only safe one; see Action.
	Action Action
	// KeepCaps stay in the effective and permitted sets; the bounding,
	// inheritable and ambient sets are emptied regardless. Both daemons
	// keep nothing: pasta's namespace worker has entered the target netns
	// before Enter, so it needs no CAP_SYS_ADMIN later.
	KeepCaps []capability.Cap
	// RunAs, if not nil, switches every thread to these user and group IDs
	// after the bounding set is cleared and before the final capset
	// (passt's isolate_user, --runas). Leaving uid 0 empties the
	// capability sets, so KeepCaps must then be empty.
	RunAs *IDs
	// SkipEmptyRoot leaves the root directory alone. Only for a process
	// that could not be re-executed into its own mount namespace; the
	// filter still refuses openat, but fds opened earlier stay reachable
	// through paths. Not for production.
	SkipEmptyRoot bool
	// ChrootFallback: if pivot_root fails with EINVAL, chroot into the
	// empty root instead (--chroot-fallback).
	ChrootFallback bool
}

// Enter confines the calling process for good: the stages after setup, in
// the order of passt's isolate_prefork() and isolate_postfork(). The mains
// call it once, right before the event loop, after every fd the loop
// needs exists. On error the process is partly confined and must exit.
//
//  1. warm-up: what would otherwise need a file or a refused syscall later
//     (time.Local from /etc/localtime, the netpoller's epoll and eventfd);
//  2. EnterEmptyRoot: empty read-only tmpfs as / (needs CAP_SYS_ADMIN);
//  3. Limits: RLIMIT_CORE = 0, not dumpable;
//  4. DropCaps(KeepCaps) on all threads (needs CAP_SETPCAP, so after 2),
//     with the switch to RunAs between the bounding set and the capset;
//  5. InstallSeccomp: no_new_privs and the filter with TSYNC (last: the
//     filter refuses mount, capset and prctl(PR_CAPBSET_DROP)).
func Enter(mode policy.Mode, opt Options) error {
	name, err := modeName(mode)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if _, err := programBlob(name); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if _, err := opt.Action.ret(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	state.Mode = mode
	warmUp()
	if !opt.SkipEmptyRoot {
		if err := enterEmptyRoot(opt.ChrootFallback); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	if err := Limits(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := dropCaps(opt.KeepCaps, opt.RunAs); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := InstallSeccomp(mode, opt.Action); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// warmUp does the lazy one-time work of the standard library that would
// need files or syscalls the filter refuses.
func warmUp() {
	// time.Local loads /etc/localtime on first use (openat).
	time.Now().Zone()
	// The first timer initialises the netpoller (epoll_create1, eventfd2).
	time.Sleep(time.Millisecond)
}

// State records which stages this process completed.
type State struct {
	Mode            policy.Mode // mode of the filter
	Verified        bool        // VerifyStage succeeded
	Landlock        bool        // LandlockNoAccess applied (false on a kernel without Landlock)
	EmptyRoot       bool        // EnterEmptyRoot succeeded
	Limits          bool        // Limits succeeded
	CapsDropped     bool        // DropCaps succeeded
	BoundingCleared bool        // the bounding set was emptied (false: no CAP_SETPCAP)
	KeptCaps        uint64      // effective = permitted mask after DropCaps
	RunAs           *IDs        // IDs switched to by Enter, nil if none
	NoNewPrivs      bool        // PR_SET_NO_NEW_PRIVS is set on every thread
	Seccomp         bool        // the filter is installed on every thread
	Action          Action      // default action of the installed filter
	Instructions    int         // length of the installed program
}

// state is written by the stage functions, which run once, before the
// event loop, on one goroutine.
var state State

// Status returns the stages completed so far. Tests and --debug output use
// it; /proc is unreachable from inside the empty root, so the process
// cannot inspect itself there.
func Status() State { return state }
