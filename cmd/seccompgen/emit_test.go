// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"testing"

	"golang.org/x/net/bpf"

	"gopasst/sandbox/profile"
)

// opsProfile uses every comparison the grammar has, with values that need
// both halves of a 64-bit argument, in [runtime] so that every mode has
// them; the repository's profile uses only ==.
const opsProfile = `
[runtime]
read # unconditional
socket arg0 == 2|10 arg2 != 3 # alternatives and !=
ioctl arg1 & 0xffff0000 == 0x54000000 # masked
fcntl arg1 < 10 arg2 >= 0x100000000 # < and >= with a high word
lseek arg1 <= 0x1ffffffff arg2 > 7 # <= with a high word and >
clone arg0 == 0x50f00 arch != s390x # qualified
clone arg1 == 0x50f00 arch == s390x # qualified
ppoll arg3 != 0xffffffff00000000 # != on the high word only
[common]
getpid # passt and pasta, not waiter
[passt]
getsockopt arg1 == 1 arg2 == 4 arg3 < 0x80000000 # three conditions
[waiter]
kill arg1 == 15 # the waiter's own section
[denied]
execve # never
`

// edgeValues are argument values around v: both halves, both carries.
func edgeValues(v uint64) []uint64 {
	return []uint64{0, 1, v, v - 1, v + 1, v ^ 1<<32, v + 1<<32, v - 1<<32, v | 0xffffffff, v &^ 0xffffffff,
		uint64(uint32(v)), 0xffffffff, 0x100000000, ^uint64(0), 1 << 63}
}

// ruleVectors returns argument vectors around each rule's conditions.
func ruleVectors(rules []profile.Rule) [][6]uint64 {
	vs := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	for _, r := range rules {
		var hit [6]uint64
		for _, c := range r.Conds {
			hit[c.Arg] = c.Value
			if c.Op == profile.OpNe || c.Op == profile.OpGt {
				hit[c.Arg] = c.Value + 1
			}
			if c.Op == profile.OpLt {
				hit[c.Arg] = c.Value - 1
			}
		}
		vs = append(vs, hit)
		for _, c := range r.Conds {
			for _, v := range edgeValues(c.Value) {
				a := hit
				a[c.Arg] = v
				vs = append(vs, a)
			}
		}
	}
	return vs
}

func vmOf(t *testing.T, prog []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	insns := make([]bpf.Instruction, len(prog))
	for i, in := range prog {
		insns[i] = in.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

func vmRun(t *testing.T, vm *bpf.VM, a profile.Arch, nr, audit uint32, args [6]uint64) uint32 {
	t.Helper()
	r, err := vm.Run(a.VMData(nr, audit, &args))
	if err != nil {
		t.Fatal(err)
	}
	return uint32(r)
}

// checkVerdicts runs every syscall p names through vm with the argument
// vectors of the rules, and under a foreign AUDIT_ARCH, and compares each
// verdict with the evaluator's.
func checkVerdicts(t *testing.T, label string, vm *bpf.VM, a profile.Arch, p *profile.Profile, rules []profile.Rule, nums map[string]uint32) {
	t.Helper()
	n := 0
	for _, name := range p.AllNames() {
		nr, ok := nums[name]
		if !ok {
			continue
		}
		for _, args := range ruleVectors(rules) {
			want := uint32(retKill)
			if profile.Allows(rules, name, &args) {
				want = retAllow
			}
			if got := vmRun(t, vm, a, nr, a.Audit, args); got != want {
				t.Errorf("%s: %s(%#x) = %#x, evaluator %#x", label, name, args, got, want)
			}
			n++
		}
		if got := vmRun(t, vm, a, nr, a.Audit^1, [6]uint64{}); got != retKill {
			t.Errorf("%s: %s under a foreign AUDIT_ARCH = %#x", label, name, got)
		}
	}
	if n < 500 {
		t.Errorf("%s: only %d checks", label, n)
	}
}

// TestEmitMatchesEvaluator compiles opsProfile with the pure-Go emitter
// for every architecture (64- and 32-bit, little- and big-endian) and
// compares every verdict with the evaluator's.
func TestEmitMatchesEvaluator(t *testing.T) {
	p, err := profile.Parse([]byte(opsProfile))
	if err != nil {
		t.Fatal(err)
	}
	xsys, err := xsysDir()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range profile.Arches {
		nums, err := loadSysnums(xsys, a.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range profile.Modes {
			rules := p.ArchRules(mode, a.Name)
			prog, _, err := emit(a, rules, nums)
			if err != nil {
				t.Fatalf("%s/%s: %v", a.Name, mode, err)
			}
			checkVerdicts(t, "emitter "+a.Name+"/"+mode, vmOf(t, prog), a, p, rules, nums)
		}
	}
}

func TestEmitRefusesMissingSyscall(t *testing.T) {
	p, err := profile.Parse([]byte("[common]\nepoll_wait # not on arm64\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := profile.ArchByName("arm64")
	if _, _, err := emit(a, p.ArchRules("passt", "arm64"), map[string]uint32{"read": 63}); err == nil {
		t.Error("a syscall arm64 lacks was compiled")
	}
}
