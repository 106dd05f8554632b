// SPDX-License-Identifier: GPL-2.0-or-later

//go:build seccompdebug

package sandbox

import (
	"fmt"
	"os"
)

// A debugging build (-tags seccompdebug): the filter's action may be
// switched to TRAP or LOG, through Options.Action or the environment
// variable ActionEnv. Never ship such a build: "log" disables the filter in
// all but name.

// Debugging actions.
const (
	// ActionTrap sends SIGSYS, which the Go runtime turns into a crash with
	// a goroutine traceback naming the call site: for CI and development.
	ActionTrap Action = 1
	// ActionLog allows the call and makes the kernel log it (audit type
	// 1326, or printk without auditd). UNSAFE: the filter then refuses
	// nothing, not even a foreign architecture; it exists to discover what
	// a new code path needs (passt's equivalent is building with
	// EXTRA_SYSCALLS).
	ActionLog Action = 2
)

var actions = []actionDef{
	{"kill", seccompRetKillProcess},
	{"trap", 0x00030000}, // SECCOMP_RET_TRAP
	{"log", 0x7ffc0000},  // SECCOMP_RET_LOG
}

const debugHint = ""

// DebugBuild reports whether this is a -tags seccompdebug build.
const DebugBuild = true

// ActionEnv names the debugging switch for the filter's action, read by
// both daemons and passed on to the processes they start:
// GOPASST_SECCOMP=kill (the default), trap or log.
const ActionEnv = "GOPASST_SECCOMP"

// ActionFromEnv returns the action named by ActionEnv, ActionKill when it
// is unset or empty, or an error for an unknown name.
func ActionFromEnv() (Action, error) {
	v := os.Getenv(ActionEnv)
	if v == "" {
		return ActionKill, nil
	}
	a, err := ParseAction(v)
	if err != nil {
		return ActionKill, fmt.Errorf("%s: %w", ActionEnv, err)
	}
	return a, nil
}

// DebugEnv returns ActionEnv as set in this process's environment, for the
// processes it starts, or nothing when it is unset.
func DebugEnv() []string {
	if v := os.Getenv(ActionEnv); v != "" {
		return []string{ActionEnv + "=" + v}
	}
	return nil
}
