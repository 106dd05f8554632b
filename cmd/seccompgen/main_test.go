// SPDX-License-Identifier: GPL-2.0-or-later

//go:build cgo

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckedInUpToDate fails when the programs in package sandbox were not
// regenerated after an edit of seccomp.profile (or a libseccomp change that
// alters the output): run go generate ./sandbox and commit the result.
func TestCheckedInUpToDate(t *testing.T) {
	files, err := generate("../../seccomp.profile")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("generated %d files, want 5 (2 modes × bpf+pfc, sysnum)", len(files))
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("../../sandbox", f.name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(old, f.data) {
				t.Errorf("sandbox/%s is stale: run go generate ./sandbox", f.name)
			}
		})
	}
}

// TestCompileRejects checks that libseccomp's own errors surface.
func TestCompileRejects(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p")
	if err := os.WriteFile(path, []byte("[common]\nno_such_syscall # test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(path); err == nil {
		t.Error("unknown syscall name compiled")
	}
}
