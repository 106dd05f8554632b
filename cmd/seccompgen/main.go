// SPDX-License-Identifier: GPL-2.0-or-later

//go:build cgo

// Command seccompgen compiles seccomp.profile into the raw BPF programs that
// package sandbox embeds, one per mode and architecture. It is a build
// tool: it links libseccomp through cgo (Debian: libseccomp-dev), the
// daemons never do.
//
//	go generate ./sandbox               # writes the programs
//	go run ./cmd/seccompgen -check      # fails if the checked-in files are stale
//
// For every mode in the profile and every architecture of profile.Arches
// it writes, into -out:
//
//	filters/seccomp_<mode>_<goarch>.bpf   raw struct sock_filter array (8 bytes
//	                                      per insn, in the architecture's byte order)
//	filters/seccomp_<mode>_<goarch>.pfc   the decision tree, for review
//
// and zsysnum_test.go, the syscall numbers of every name the profile
// mentions on each architecture, for the pure-Go BPF VM test. Default and
// bad-architecture action are SECCOMP_RET_KILL_PROCESS.
//
// libseccomp compiles the architectures in libseccompArch (the .pfc is its
// pseudo filter code). Debian 12's libseccomp 2.5.4 does not know loong64
// (added in 2.6.0, not in bookworm-backports either), so that one comes
// from the pure-Go emitter in emit.go (the .pfc is a disassembly). The
// syscall numbers come from golang.org/x/sys's tables (sysnum.go); where
// libseccomp compiles, its numbers must agree with them. A rule naming a
// syscall an architecture lacks is an error (qualify it with arch); such
// names in [denied] are skipped.
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

	"golang.org/x/net/bpf"

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
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil && !*check {
			fmt.Fprintln(os.Stderr, "seccompgen:", err)
			os.Exit(1)
		}
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

// libseccompArch names the architectures libseccomp compiles; the others
// of profile.Arches go through the pure-Go emitter.
var libseccompArch = map[string]seccomp.ScmpArch{
	"amd64":    seccomp.ArchAMD64,
	"arm64":    seccomp.ArchARM64,
	"arm":      seccomp.ArchARM,
	"riscv64":  seccomp.ArchRISCV64,
	"mips64le": seccomp.ArchMIPSEL64,
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
	xsys, err := xsysDir()
	if err != nil {
		return nil, err
	}
	var out []outFile
	tables := map[string]map[string]uint32{}
	for _, arch := range profile.Arches {
		nums, err := loadSysnums(xsys, arch.Name)
		if err != nil {
			return nil, err
		}
		tables[arch.Name] = nums
		for _, mode := range profile.Modes {
			rules := p.ArchRules(mode, arch.Name)
			var bpfData, pfc []byte
			if sa, ok := libseccompArch[arch.Name]; ok {
				bpfData, pfc, err = compile(sa, arch.Name, rules, nums)
			} else {
				var prog []bpf.RawInstruction
				var notes []string
				if prog, notes, err = emit(arch, rules, nums); err == nil {
					bpfData, pfc = encode(arch, prog), listing(arch, mode, prog, notes)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("mode %s, %s: %w", mode, arch.Name, err)
			}
			base := "filters/seccomp_" + mode + "_" + arch.Name
			out = append(out, outFile{base + ".bpf", bpfData}, outFile{base + ".pfc", pfc})
		}
	}
	nums, err := sysnumFile(p, tables)
	if err != nil {
		return nil, err
	}
	return append(out, outFile{"zsysnum_test.go", nums}), nil
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

// compile builds one filter for arch with libseccomp and exports it as raw
// BPF and as PFC text. Every syscall number must agree with nums.
func compile(arch seccomp.ScmpArch, goarch string, rules []profile.Rule, nums map[string]uint32) (bpf, pfc []byte, err error) {
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
	// The filter is built for arch whatever the build host is.
	native, err := seccomp.GetNativeArch()
	if err != nil {
		return nil, nil, err
	}
	// The native one goes first: libseccomp refuses to mix byte orders
	// in one filter (EDOM for s390x next to x86_64).
	if native != arch {
		if err := f.RemoveArch(native); err != nil {
			return nil, nil, err
		}
		if err := f.AddArch(arch); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range rules {
		want, ok := nums[r.Syscall]
		if !ok {
			return nil, nil, fmt.Errorf("line %d: %s is not a syscall on %s: qualify the rule with arch", r.Line, r.Syscall, goarch)
		}
		anr, err := seccomp.GetSyscallFromNameByArch(r.Syscall, arch)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %s: %w", r.Line, r.Syscall, err)
		}
		if anr < 0 || uint32(anr) != want {
			return nil, nil, fmt.Errorf("line %d: %s on %s: libseccomp says %d, x/sys %d", r.Line, r.Syscall, goarch, anr, want)
		}
		// libseccomp's rule API takes the build host's numbering (a
		// negative pseudo number for a name the host lacks) and
		// translates it by name for the filter's architecture.
		nr, err := seccomp.GetSyscallFromName(r.Syscall)
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

// sysnumFile writes the syscall numbers of every name in the profile, on
// every architecture that has it, as a Go test file for package sandbox.
func sysnumFile(p *profile.Profile, tables map[string]map[string]uint32) ([]byte, error) {
	var b strings.Builder
	b.WriteString("// SPDX-License-Identifier: GPL-2.0-or-later\n\n")
	b.WriteString("// Code generated by cmd/seccompgen from seccomp.profile. DO NOT EDIT.\n\n")
	b.WriteString("package sandbox\n\n")
	b.WriteString("// sysnums maps every syscall name in seccomp.profile to its number on\n")
	b.WriteString("// each architecture that has it (from golang.org/x/sys's tables).\n")
	b.WriteString("var sysnums = map[string]map[string]uint32{\n")
	for _, arch := range profile.Arches {
		fmt.Fprintf(&b, "\t%q: {\n", arch.Name)
		for _, name := range p.AllNames() {
			if nr, ok := tables[arch.Name][name]; ok {
				fmt.Fprintf(&b, "\t\t%q: %d,\n", name, nr)
			}
		}
		b.WriteString("\t},\n")
	}
	b.WriteString("}\n")
	return format.Source([]byte(b.String()))
}
