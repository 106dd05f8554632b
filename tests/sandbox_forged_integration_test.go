// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIntegrationSandboxForgedStage starts the binaries as root, in our own
// mount namespace, with the variables of a re-executed stage set by hand:
// the stage names, the inherited-fd count, and even a stage proof that
// names a real pipe holding the right token (what a determined forger
// could build). Each process must refuse with a message saying why, exit
// non-zero, and leave the host's mount table as it was: the empty-root
// step never runs outside a fresh mount namespace.
func TestIntegrationSandboxForgedStage(t *testing.T) {
	requireRoot(t)
	const token = "00112233445566778899aabbccddeeff"
	tests := []struct {
		name  string
		bin   string
		args  []string
		env   []string
		proof bool   // a pipe holding token at fd 3
		want  string // in stderr
	}{
		{"passt, stage only", passtBin, []string{"-f"},
			[]string{"GOPASST_SANDBOX_STAGE=passt", "GOPASST_SANDBOX_FDS=0"}, false,
			"refusing to run as the sandboxed stage: not a re-executed sandbox stage: no GOPASST_SANDBOX_PROOF"},
		{"passt, forged proof", passtBin, []string{"-f"},
			[]string{"GOPASST_SANDBOX_STAGE=passt", "GOPASST_SANDBOX_FDS=0", "GOPASST_SANDBOX_PROOF=3:" + token}, true,
			"not in a private mount namespace"},
		{"pasta engine, stage only", pastaBin, []string{"-f", "--config-net", "--", "true"},
			[]string{"GOPASST_STAGE=engine"}, false,
			"refusing to run as the engine stage"},
		{"pasta engine, forged proof", pastaBin, []string{"-f", "--config-net", "--", "true"},
			[]string{"GOPASST_STAGE=engine", "GOPASST_SANDBOX_PROOF=3:" + token}, true,
			"not in a private mount namespace"},
		{"pasta nsinit", pastaBin, []string{"nsinit", "/bin/true", "true"},
			[]string{"GOPASST_STAGE=nsinit"}, false,
			"not PID 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tt.bin, tt.args...)
			cmd.Env = append(os.Environ(), tt.env...)
			if tt.proof {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				w.WriteString(token)
				w.Close()
				defer r.Close()
				cmd.ExtraFiles = []*os.File{r}
			}
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			err = cmd.Run()
			if err == nil {
				t.Errorf("exit status 0, want a refusal")
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.want)
			}
			after, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("the host's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
