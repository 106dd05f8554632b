// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRequireTools: joining a user namespace needs nsenter and unshare in
// PATH; a missing one is named before anything runs.
func TestRequireTools(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"nsenter"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	join := Plan{JoinUserNS: "/proc/1/ns/user", Isolate: true}
	tests := []struct {
		name    string
		plan    Plan
		missing string // "" when nothing is missing
	}{
		{name: "spawn needs nothing", plan: Plan{Isolate: true, NewUserNS: true}},
		{name: "join needs unshare too", plan: join, missing: "unshare not found in PATH: needs nsenter and unshare from util-linux"},
		{name: "join without isolation", plan: Plan{JoinUserNS: "/proc/1/ns/user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := requireTools(tt.plan.Tools())
			switch {
			case tt.missing == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.missing != "" && (err == nil || err.Error() != tt.missing):
				t.Errorf("error %v, want %q", err, tt.missing)
			}
		})
	}
	t.Setenv("PATH", t.TempDir())
	if err := requireTools(join.Tools()); err == nil || !strings.Contains(err.Error(), "nsenter and unshare not found") {
		t.Errorf("both missing: %v", err)
	}
}
