// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && seccompdebug

package sandbox

import (
	"slices"
	"testing"
)

func TestActionFromEnv(t *testing.T) {
	tests := []struct {
		env     string
		want    Action
		wantErr bool
	}{
		{env: "", want: ActionKill},
		{env: "kill", want: ActionKill},
		{env: "trap", want: ActionTrap},
		{env: "log", want: ActionLog},
		{env: "allow", wantErr: true},
		{env: "KILL", wantErr: true},
	}
	for _, tt := range tests {
		t.Run("env="+tt.env, func(t *testing.T) {
			t.Setenv(ActionEnv, tt.env)
			got, err := ActionFromEnv()
			if (err != nil) != tt.wantErr {
				t.Fatalf("ActionFromEnv() error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ActionFromEnv() = %v, want %v", got, tt.want)
			}
			if err != nil && got != ActionKill {
				t.Errorf("on error ActionFromEnv() = %v, want kill", got)
			}
			env := DebugEnv()
			if want := []string{ActionEnv + "=" + tt.env}; tt.env != "" && !slices.Equal(env, want) {
				t.Errorf("DebugEnv() = %q, want %q", env, want)
			}
		})
	}
}
