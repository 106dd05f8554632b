// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"
	"os"
)

// ActionEnv names the hidden debugging switch for the filter's action:
// GOPASST_SECCOMP=kill (the default), trap or log. ActionFromEnv reads it.
//
// UNSAFE with "log": the filter then allows every syscall and only makes
// the kernel log those outside the profile (see ActionLog). It exists to
// find what a new code path needs, not for production. "trap" turns a
// missing syscall into a Go traceback instead of a silent SIGSYS kill.
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
