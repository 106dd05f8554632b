// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"
	"strings"
)

// Action is what the installed filter does with a syscall seccomp.profile
// does not allow. A release build knows ActionKill only; a build with
// -tags seccompdebug adds ActionTrap and ActionLog (action_debug.go), so
// that no switch in a release binary can weaken the filter.
type Action int

// ActionKill kills the whole process (SECCOMP_RET_KILL_PROCESS), as passt
// does. Never KILL_THREAD: a killed Go thread wedges the program.
const ActionKill Action = 0

// actionDef names an action and the filter's return value for it.
type actionDef struct {
	name string
	ret  uint32
}

// seccompRetKillProcess is SECCOMP_RET_KILL_PROCESS (spelled out: this
// file builds on every OS).
const seccompRetKillProcess = 0x80000000

func (a Action) String() string {
	if a >= 0 && int(a) < len(actions) {
		return actions[a].name
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// ParseAction parses an action name: "kill", and in a seccompdebug build
// "trap" and "log".
func ParseAction(s string) (Action, error) {
	var names []string
	for i, d := range actions {
		if s == d.name {
			return Action(i), nil
		}
		names = append(names, d.name)
	}
	return 0, fmt.Errorf("unknown seccomp action %q (this build knows %s%s)", s, strings.Join(names, ", "), debugHint)
}

func (a Action) ret() (uint32, error) {
	if a >= 0 && int(a) < len(actions) {
		return actions[a].ret, nil
	}
	return 0, fmt.Errorf("unknown seccomp action %d", int(a))
}
