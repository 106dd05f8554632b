// SPDX-License-Identifier: GPL-2.0-or-later

//go:build !seccompdebug

package sandbox

// A release build: the filter kills, and nothing in the environment or on
// the command line changes that. The debugging actions and the variable
// that selects them exist only with -tags seccompdebug (action_debug.go);
// a test checks that the release binaries do not even contain its name.

var actions = []actionDef{{"kill", seccompRetKillProcess}}

const debugHint = "; trap and log need a build with -tags seccompdebug"

// DebugBuild reports whether this is a -tags seccompdebug build.
const DebugBuild = false

// ActionFromEnv returns ActionKill: a release build has no switch.
func ActionFromEnv() (Action, error) { return ActionKill, nil }

// DebugEnv returns the environment a process passes on to the processes
// it starts so that they use its filter action: nothing in a release build.
func DebugEnv() []string { return nil }
