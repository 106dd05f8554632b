// SPDX-License-Identifier: GPL-2.0-or-later

//go:build cgo

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopasst/sandbox/profile"
)

// TestCheckedInUpToDate fails when the programs in package sandbox were not
// regenerated after an edit of seccomp.profile (or a libseccomp change that
// alters the output): run go generate ./sandbox and commit the result.
func TestCheckedInUpToDate(t *testing.T) {
	files, err := generate("../../seccomp.profile")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(profile.Modes)*len(profile.Arches)*2 + 1; len(files) != want {
		t.Fatalf("generated %d files, want %d (modes × arches × bpf+pfc, sysnum)", len(files), want)
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

// TestStaleDetectedOnEveryArch edits the profile (one more allowed
// syscall) and checks that the program of every mode on every architecture
// changes, so that TestCheckedInUpToDate catches a forgotten regeneration
// whichever architecture it concerns.
func TestStaleDetectedOnEveryArch(t *testing.T) {
	src, err := os.ReadFile("../../seccomp.profile")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "[common]\n", "[common]\ngetppid # test: one more syscall\n", 1)
	path := filepath.Join(t.TempDir(), "p")
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := generate(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.name, ".bpf") {
			continue
		}
		n++
		old, err := os.ReadFile(filepath.Join("../../sandbox", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(old, f.data) {
			t.Errorf("%s: an edited profile compiles to the checked-in program", f.name)
		}
	}
	if n != len(profile.Modes)*len(profile.Arches) {
		t.Errorf("%d programs, want one per mode and architecture", n)
	}
}
