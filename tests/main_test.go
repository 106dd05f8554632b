// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Paths of the binaries under test, built once by TestMain.
var (
	pastaBin string
	passtBin string
	binDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gopasst-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// World-readable so that tests running pasta as an unprivileged user can
	// execute it.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	// As installed: one binary, passt, and pasta a link to it, so that
	// every pasta test also runs the mode choice by name and the
	// re-executions through /proc/self/exe.
	pastaBin = filepath.Join(dir, "pasta")
	passtBin = filepath.Join(dir, "passt")
	cmd := exec.Command("go", "build", "-o", passtBin, "gopasst/cmd/passt")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build passt: %v\n%s", err, b)
		os.Exit(1)
	}
	if err := os.Symlink("passt", pastaBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireRoot skips t unless the test runs as root, which every test here
// needs (namespaces, tap devices, nftables).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}
