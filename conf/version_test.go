// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"runtime/debug"
	"strings"
	"testing"

	"gopasst/policy"
)

func TestVersionFromBuildInfo(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{name: "module version", bi: debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, want: "v1.2.3"},
		{name: "no VCS info", bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: "devel"},
		{name: "clean revision", bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}},
			want: "devel-0123456789ab"},
		{name: "dirty revision", bi: debug.BuildInfo{
			Settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: rev}}},
			want: "devel-0123456789ab-dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionFromBuildInfo(&tt.bi); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVersionStamped(t *testing.T) {
	old := version
	defer func() { version = old }()
	version = "1.0-test"
	for _, mode := range []policy.Mode{policy.ModePasst, policy.ModePasta} {
		got := Version(mode)
		if !strings.HasPrefix(got, "gopasst 1.0-test\n") || !strings.Contains(got, modeName(mode)+" mode") {
			t.Errorf("Version(%v) = %q", mode, got)
		}
	}
}
