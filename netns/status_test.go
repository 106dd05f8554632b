// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os/exec"
	"testing"
)

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{name: "success", script: "exit 0", want: 0},
		{name: "exit 7", script: "exit 7", want: 7},
		{name: "exit 255", script: "exit 255", want: 255},
		{name: "SIGKILL", script: "kill -KILL $$", want: 137},
		{name: "SIGTERM", script: "kill -TERM $$", want: 143},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", tt.script)
			_ = cmd.Run()
			if got := ExitStatus(cmd.ProcessState); got != tt.want {
				t.Errorf("ExitStatus = %d, want %d", got, tt.want)
			}
		})
	}
	if got := ExitStatus(nil); got != 1 {
		t.Errorf("ExitStatus(nil) = %d, want 1", got)
	}
}
