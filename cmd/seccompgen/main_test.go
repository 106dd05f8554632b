// SPDX-License-Identifier: GPL-2.0-or-later

//go:build cgo

package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

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
	edited := strings.Replace(string(src), "[runtime]\n", "[runtime]\ngetppid # test: one more syscall in every mode\n", 1)
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

// TestLibseccompMatchesEvaluator compiles opsProfile (every comparison)
// with libseccomp for the architectures it compiles and checks its
// verdicts against the evaluator's, which TestEmitMatchesEvaluator holds
// the pure-Go emitter to: so the emitter decides as libseccomp does.
func TestLibseccompMatchesEvaluator(t *testing.T) {
	p, err := profile.Parse([]byte(opsProfile))
	if err != nil {
		t.Fatal(err)
	}
	xsys, err := xsysDir()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range profile.Arches {
		sa, ok := libseccompArch[a.Name]
		if !ok {
			continue
		}
		nums, err := loadSysnums(xsys, a.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range profile.Modes {
			rules := p.ArchRules(mode, a.Name)
			blob, _, err := compile(sa, a.Name, rules, nums)
			if err != nil {
				t.Fatalf("%s/%s: %v", a.Name, mode, err)
			}
			bo := binary.ByteOrder(binary.LittleEndian)
			if a.BigEndian {
				bo = binary.BigEndian
			}
			prog := make([]bpf.RawInstruction, len(blob)/8)
			for i := range prog {
				b := blob[8*i:]
				prog[i] = bpf.RawInstruction{Op: bo.Uint16(b), Jt: b[2], Jf: b[3], K: bo.Uint32(b[4:])}
			}
			checkVerdicts(t, "libseccomp "+a.Name+"/"+mode, vmOf(t, prog), a, p, rules, nums)
		}
	}
}
