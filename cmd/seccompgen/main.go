// SPDX-License-Identifier: GPL-2.0-or-later

//go:build cgo

// Command seccompgen compiles seccomp.profile into the raw BPF programs that
// package sandbox embeds. It is a build tool: it links libseccomp through
// cgo (Debian: libseccomp-dev), the daemons never do.
//
//	go generate ./sandbox               # writes the programs
//	go run ./cmd/seccompgen -check      # fails if the checked-in files are stale
//
// For every mode in the profile it writes, into -out:
//
//	seccomp_<mode>_amd64.bpf   raw struct sock_filter array (8 bytes per insn)
//	seccomp_<mode>_amd64.pfc   libseccomp's pseudo filter code, for review
//
// and zsysnum_amd64_test.go, the syscall numbers of every name the profile
// mentions, for the pure-Go BPF VM test. Default and bad-architecture action
// are SECCOMP_RET_KILL_PROCESS.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"strings"

	seccomp "github.com/seccomp/libseccomp-golang"

	"gopasst/sandbox/profile"
)

func main() {
	profPath := flag.String("profile", "seccomp.profile", "profile to compile")
	outDir := flag.String("out", "sandbox", "directory for the generated files")
	check := flag.Bool("check", false, "compare with the files in -out instead of writing them; exit 1 if they differ")
	flag.Parse()

	files, err := generate(*profPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seccompgen:", err)
		os.Exit(1)
	}
	stale := false
	for _, f := range files {
		path := filepath.Join(*outDir, f.name)
		if *check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, f.data) {
				fmt.Fprintf(os.Stderr, "seccompgen: %s is stale; run go generate ./sandbox\n", path)
				stale = true
			}
			continue
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "seccompgen:", err)
			os.Exit(1)
		}
	}
	if stale {
		os.Exit(1)
	}
}

type outFile struct {
	name string
	data []byte
}

// generate compiles the profile at path into the output files, in a fixed
// order so that -check is deterministic.
func generate(path string) ([]outFile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := profile.Parse(src)
	if err != nil {
		return nil, err
	}
	var out []outFile
	for _, mode := range profile.Modes {
		bpf, pfc, err := compile(p.ModeRules(mode))
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", mode, err)
		}
		out = append(out,
			outFile{"seccomp_" + mode + "_amd64.bpf", bpf},
			outFile{"seccomp_" + mode + "_amd64.pfc", pfc})
	}
	nums, err := sysnumFile(p)
	if err != nil {
		return nil, err
	}
	return append(out, outFile{"zsysnum_amd64_test.go", nums}), nil
}

var ops = map[profile.Op]seccomp.ScmpCompareOp{
	profile.OpEq:       seccomp.CompareEqual,
	profile.OpNe:       seccomp.CompareNotEqual,
	profile.OpLt:       seccomp.CompareLess,
	profile.OpLe:       seccomp.CompareLessOrEqual,
	profile.OpGt:       seccomp.CompareGreater,
	profile.OpGe:       seccomp.CompareGreaterEqual,
	profile.OpMaskedEq: seccomp.CompareMaskedEqual,
}

// compile builds one filter and exports it as raw BPF and as PFC text.
func compile(rules []profile.Rule) (bpf, pfc []byte, err error) {
	f, err := seccomp.NewFilter(seccomp.ActKillProcess)
	if err != nil {
		return nil, nil, err
	}
	defer f.Release()
	if err := f.SetBadArchAction(seccomp.ActKillProcess); err != nil {
		return nil, nil, err
	}
	// Binary search tree over syscall numbers, as passt's seccomp.sh.
	if err := f.SetOptimize(2); err != nil {
		return nil, nil, err
	}
	// The filter is built for amd64 whatever the build host is.
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return nil, nil, err
	}
	if native != seccomp.ArchAMD64 {
		if err := f.AddArch(seccomp.ArchAMD64); err != nil {
			return nil, nil, err
		}
		if err := f.RemoveArch(native); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range rules {
		nr, err := seccomp.GetSyscallFromNameByArch(r.Syscall, seccomp.ArchAMD64)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %s: %w", r.Line, r.Syscall, err)
		}
		if len(r.Conds) == 0 {
			err = f.AddRuleExact(nr, seccomp.ActAllow)
		} else {
			var conds []seccomp.ScmpCondition
			for _, c := range r.Conds {
				var sc seccomp.ScmpCondition
				if c.Op == profile.OpMaskedEq {
					sc, err = seccomp.MakeCondition(c.Arg, ops[c.Op], c.Mask, c.Value)
				} else {
					sc, err = seccomp.MakeCondition(c.Arg, ops[c.Op], c.Value)
				}
				if err != nil {
					return nil, nil, fmt.Errorf("line %d: %w", r.Line, err)
				}
				conds = append(conds, sc)
			}
			err = f.AddRuleConditionalExact(nr, seccomp.ActAllow, conds)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %s: %w", r.Line, r.Syscall, err)
		}
	}
	if bpf, err = export(f.ExportBPF); err != nil {
		return nil, nil, fmt.Errorf("export BPF: %w", err)
	}
	if pfc, err = export(f.ExportPFC); err != nil {
		return nil, nil, fmt.Errorf("export PFC: %w", err)
	}
	return bpf, pfc, nil
}

// export runs one of libseccomp's exporters into a pipe and returns what it
// wrote. libseccomp 2.5.4 has no seccomp_export_bpf_mem, so ExportBPFMem
// fails there; runc's patchbpf reads through a pipe the same way.
func export(fn func(*os.File) error) ([]byte, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		done <- result{b, err}
	}()
	err = fn(w)
	w.Close()
	res := <-done
	if err != nil {
		return nil, err
	}
	return res.b, res.err
}

// sysnumFile writes the syscall numbers of every name in the profile as a
// Go test file for package sandbox.
func sysnumFile(p *profile.Profile) ([]byte, error) {
	var b strings.Builder
	b.WriteString("// SPDX-License-Identifier: GPL-2.0-or-later\n\n")
	b.WriteString("// Code generated by cmd/seccompgen from seccomp.profile. DO NOT EDIT.\n\n")
	b.WriteString("package sandbox\n\n")
	b.WriteString("// sysnumAMD64 maps every syscall name in seccomp.profile to its amd64 number.\n")
	b.WriteString("var sysnumAMD64 = map[string]uint32{\n")
	for _, name := range p.AllNames() {
		nr, err := seccomp.GetSyscallFromNameByArch(name, seccomp.ArchAMD64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(&b, "\t%q: %d,\n", name, nr)
	}
	b.WriteString("}\n")
	return format.Source([]byte(b.String()))
}
