// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopasst/policy"
)

func TestParseAction(t *testing.T) {
	for i := range actions {
		a := Action(i)
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v", a.String(), got, err)
		}
	}
	for _, s := range []string{"allow", "KILL", ""} {
		if _, err := ParseAction(s); err == nil {
			t.Errorf("ParseAction(%q) succeeded", s)
		}
	}
	if _, err := Program(policy.ModePasst, Action(7)); err == nil {
		t.Error("Program with a bad action succeeded")
	}
}

// debugVariable is the name release binaries must not contain. Spelled in
// two pieces so that this test's own binary does not trip a grep.
var debugVariable = []byte("GOPASST_" + "SECCOMP")

// TestReleaseBinariesHaveNoSwitch builds the daemons as a release
// (CGO_ENABLED=0 go build, as ./dev build does) and as a seccompdebug build,
// and looks for the debugging variable's name in the bytes, as grep -a
// would: absent from the release binaries, present in the debug ones (so
// that the check is known to find it).
func TestReleaseBinariesHaveNoSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the daemons four times")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	dir := t.TempDir()
	for _, cmd := range []string{"passt", "pasta"} {
		for _, tags := range []string{"", "seccompdebug"} {
			name := cmd + "-release"
			if tags != "" {
				name = cmd + "-debug"
			}
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(dir, name)
				args := []string{"build", "-trimpath", "-o", out}
				if tags != "" {
					args = append(args, "-tags", tags)
				}
				build := exec.Command(gotool, append(args, "gopasst/cmd/"+cmd)...)
				build.Env = append(os.Environ(), "CGO_ENABLED=0")
				if b, err := build.CombinedOutput(); err != nil {
					t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
				}
				bin, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if has := bytes.Contains(bin, debugVariable); has != (tags != "") {
					t.Errorf("%s contains %s: %v, want %v", name, debugVariable, has, tags != "")
				}
			})
		}
	}
}
