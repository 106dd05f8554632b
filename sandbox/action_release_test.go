// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && !seccompdebug

package sandbox

import (
	"strings"
	"testing"
)

// TestReleaseHasNoSwitch: in a release build only kill parses, whatever
// the environment says, and nothing is passed on to child processes.
func TestReleaseHasNoSwitch(t *testing.T) {
	t.Setenv(string(debugVariable), "log")
	if a, err := ActionFromEnv(); a != ActionKill || err != nil {
		t.Errorf("ActionFromEnv() = %v, %v; want kill", a, err)
	}
	if env := DebugEnv(); env != nil {
		t.Errorf("DebugEnv() = %q, want nothing", env)
	}
	for _, s := range []string{"trap", "log"} {
		_, err := ParseAction(s)
		if err == nil || !strings.Contains(err.Error(), "seccompdebug") {
			t.Errorf("ParseAction(%q) error %v, want one naming the seccompdebug tag", s, err)
		}
	}
	if len(actions) != 1 || DebugBuild {
		t.Errorf("release build knows %d actions, DebugBuild %v", len(actions), DebugBuild)
	}
}
