// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"testing"

	"github.com/syndtr/gocapability/capability"
)

// TestDropCapsRunAsKeepRefused: leaving uid 0 empties the permitted set,
// so nothing can be kept across --runas; the refusal comes before any
// syscall.
func TestDropCapsRunAsKeepRefused(t *testing.T) {
	err := dropCaps([]capability.Cap{capability.CAP_NET_BIND_SERVICE}, &IDs{UID: 65534, GID: 65534})
	if err == nil {
		t.Fatal("dropCaps kept a capability across a uid switch")
	}
	if state.CapsDropped {
		t.Error("state says caps were dropped")
	}
}

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
		})
	}
}
