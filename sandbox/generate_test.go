// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate runs go run gopasst/cmd/seccompgen -check, which
// fails when the embedded programs disagree with ../seccomp.profile. It
// needs the go tool, cgo and libseccomp-dev, and is skipped without them
// and with -short. cmd/seccompgen's own test checks the same in-process.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/seccompgen with cgo")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command(gotool, "env", "CGO_ENABLED").Output()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Skip("cgo disabled")
	}
	// Read the inputs here too, so that go test's cache notices edits.
	files, err := filepath.Glob("filters/seccomp_*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated filters (%v)", err)
	}
	for _, f := range append(files, "../seccomp.profile", "zsysnum_test.go") {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(gotool, "run", "gopasst/cmd/seccompgen", "-check", "-profile", "../seccomp.profile", "-out", ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("seccompgen -check: %v\n%s", err, b)
	}
}
