// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/bpf"

	"gopasst/sandbox/profile"
)

// The pure-Go emitter compiles a rule set for architectures the build
// host's libseccomp does not know (loong64 with Debian 12's 2.5.4). It
// makes the decisions libseccomp's filters make:
//
//   - seccomp_data.arch other than the architecture's AUDIT_ARCH: kill;
//   - a syscall number with no rule: kill;
//   - a rule allows when all its conditions hold, comparing both 32-bit
//     halves of an argument on a 64-bit architecture (only the low half on
//     a 32-bit one); a syscall whose rules all fail: kill.
//
// The program is a binary search over the sorted syscall numbers (as
// libseccomp's optimize level 2), with the rules of a syscall inline in
// its leaf. The sandbox's BPF-VM test checks the result against the
// profile's evaluator exactly as it checks libseccomp's programs.

const (
	retKill  = 0x80000000 // SECCOMP_RET_KILL_PROCESS
	retAllow = 0x7fff0000 // SECCOMP_RET_ALLOW
	leafSize = 4          // syscalls compared linearly at the bottom of the tree
)

// seccomp_data offsets.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// insn is an instruction with a note for the review listing.
type insn struct {
	bpf.Instruction
	note string
}

func note(in bpf.Instruction, format string, args ...any) insn {
	return insn{in, fmt.Sprintf(format, args...)}
}

type sysRules struct {
	nr    uint32
	name  string
	rules []profile.Rule
}

// emit compiles rules for arch with the syscall numbers nums, and returns
// the program and a note for each instruction.
func emit(arch profile.Arch, rules []profile.Rule, nums map[string]uint32) ([]bpf.RawInstruction, []string, error) {
	byNr := map[uint32]*sysRules{}
	for _, r := range rules {
		nr, ok := nums[r.Syscall]
		if !ok {
			return nil, nil, fmt.Errorf("line %d: %s is not a syscall on %s: qualify the rule with arch", r.Line, r.Syscall, arch.Name)
		}
		s := byNr[nr]
		if s == nil {
			s = &sysRules{nr: nr, name: r.Syscall}
			byNr[nr] = s
		}
		s.rules = append(s.rules, r)
	}
	var sys []*sysRules
	for _, s := range byNr {
		sys = append(sys, s)
	}
	slices.SortFunc(sys, func(a, b *sysRules) int { return cmp.Compare(a.nr, b.nr) })

	prog := []insn{
		note(bpf.LoadAbsolute{Off: offArch, Size: 4}, "A = arch"),
		note(bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch.Audit, SkipTrue: 1}, "AUDIT_ARCH of %s?", arch.Name),
		note(bpf.RetConstant{Val: retKill}, "KILL_PROCESS: foreign architecture"),
		note(bpf.LoadAbsolute{Off: offNr, Size: 4}, "A = syscall number"),
	}
	tree, err := emitTree(arch, sys)
	if err != nil {
		return nil, nil, err
	}
	prog = append(prog, tree...)
	if len(prog) > 4096 {
		return nil, nil, fmt.Errorf("%s: program of %d instructions exceeds BPF_MAXINSNS", arch.Name, len(prog))
	}
	insns := make([]bpf.Instruction, len(prog))
	notes := make([]string, len(prog))
	for i, in := range prog {
		insns[i], notes[i] = in.Instruction, in.note
	}
	raw, err := bpf.Assemble(insns)
	return raw, notes, err
}

// emitTree returns the search over sys; the syscall number is in A.
func emitTree(arch profile.Arch, sys []*sysRules) ([]insn, error) {
	if len(sys) <= leafSize {
		var out []insn
		for _, s := range sys {
			body, err := emitSyscall(arch, s)
			if err != nil {
				return nil, err
			}
			if len(body) > 255 {
				return nil, fmt.Errorf("%s: rules of %s too long for a BPF jump (%d instructions)", arch.Name, s.name, len(body))
			}
			out = append(out, note(bpf.JumpIf{Cond: bpf.JumpEqual, Val: s.nr, SkipFalse: uint8(len(body))}, "%s?", s.name))
			out = append(out, body...)
		}
		return append(out, note(bpf.RetConstant{Val: retKill}, "KILL_PROCESS: not in the profile")), nil
	}
	mid := len(sys) / 2
	left, err := emitTree(arch, sys[:mid])
	if err != nil {
		return nil, err
	}
	right, err := emitTree(arch, sys[mid:])
	if err != nil {
		return nil, err
	}
	out := []insn{
		note(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: sys[mid].nr, SkipFalse: 1}, "syscall >= %d (%s)?", sys[mid].nr, sys[mid].name),
		note(bpf.Jump{Skip: uint32(len(left))}, "to %s and above", sys[mid].name),
	}
	out = append(out, left...)
	return append(out, right...), nil
}

// emitSyscall returns the rules of one syscall: each rule falls through to
// the next when a condition fails; the last failure kills. A reloads the
// syscall number nowhere: a matched number is final.
func emitSyscall(arch profile.Arch, s *sysRules) ([]insn, error) {
	var out []insn
	for _, r := range s.rules {
		if len(r.Conds) == 0 {
			return []insn{note(bpf.RetConstant{Val: retAllow}, "ALLOW %s (line %d)", s.name, r.Line)}, nil
		}
		var blk []insn
		var fails []int // indexes of jumps whose fail branch leaves the rule
		for _, c := range r.Conds {
			code, f := emitCond(arch, c)
			for _, i := range f {
				fails = append(fails, len(blk)+i)
			}
			blk = append(blk, code...)
		}
		blk = append(blk, note(bpf.RetConstant{Val: retAllow}, "ALLOW %s (line %d)", s.name, r.Line))
		end := len(blk) // the next rule
		for _, i := range fails {
			j := blk[i].Instruction.(bpf.JumpIf)
			skip := end - i - 1
			if skip > 255 {
				return nil, fmt.Errorf("line %d: rule too long for a BPF jump", r.Line)
			}
			if j.SkipTrue == failMark {
				j.SkipTrue = uint8(skip)
			}
			if j.SkipFalse == failMark {
				j.SkipFalse = uint8(skip)
			}
			blk[i].Instruction = j
		}
		out = append(out, blk...)
	}
	return append(out, note(bpf.RetConstant{Val: retKill}, "KILL_PROCESS: %s with other arguments", s.name)), nil
}

// failMark in a jump's skip marks the branch that fails the rule; the
// jumps are patched once the rule's length is known.
const failMark = 0xff

// emitCond returns the code of one condition and the indexes of its jumps
// that carry failMark. On success it falls through.
func emitCond(arch profile.Arch, c profile.Cond) ([]insn, []int) {
	lo := uint32(offArgs + 8*c.Arg)
	hi := lo + 4
	if arch.BigEndian {
		lo, hi = hi, lo
	}
	vlo, vhi := uint32(c.Value), uint32(c.Value>>32)
	mlo, mhi := uint32(c.Mask), uint32(c.Mask>>32)
	half := "low"
	ld := func(off uint32) insn {
		return note(bpf.LoadAbsolute{Off: off, Size: 4}, "A = arg%d %s word", c.Arg, half)
	}
	j := func(cond bpf.JumpTest, v uint32, t, f uint8) insn {
		return note(bpf.JumpIf{Cond: cond, Val: v, SkipTrue: t, SkipFalse: f}, "%v", c)
	}
	// Each half is compared in turn, the high one first; last marks the
	// low half (the only one on a 32-bit architecture).
	var code []insn
	var fails []int
	mark := func() { fails = append(fails, len(code)-1) }
	halves := []struct {
		off, v, m uint32
		last      bool
	}{{hi, vhi, mhi, false}, {lo, vlo, mlo, true}}
	if arch.Bits == 32 {
		halves = halves[1:]
	}
	for _, h := range halves {
		half = "high"
		if h.last {
			half = "low"
		}
		code = append(code, ld(h.off))
		switch c.Op {
		case profile.OpEq:
			code = append(code, j(bpf.JumpEqual, h.v, 0, failMark))
			mark()
		case profile.OpMaskedEq:
			code = append(code, note(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: h.m}, "mask"), j(bpf.JumpEqual, h.v, 0, failMark))
			mark()
		case profile.OpNe:
			if !h.last {
				// high halves differ: the condition holds (skip the low half)
				code = append(code, j(bpf.JumpEqual, h.v, 0, 2))
			} else {
				code = append(code, j(bpf.JumpEqual, h.v, failMark, 0))
				mark()
			}
		case profile.OpGt, profile.OpGe, profile.OpLt, profile.OpLe:
			greater := c.Op == profile.OpGt || c.Op == profile.OpGe
			if !h.last {
				// strictly beyond on the high half decides; equal goes on
				// to the low half. pass skips the rest: jeq, ld, jump.
				const pass = 3
				if greater {
					code = append(code, j(bpf.JumpGreaterThan, h.v, pass, 0))
				} else {
					code = append(code, j(bpf.JumpGreaterOrEqual, h.v, 0, pass))
				}
				code = append(code, j(bpf.JumpEqual, h.v, 0, failMark))
				mark()
			} else {
				switch c.Op {
				case profile.OpGt:
					code = append(code, j(bpf.JumpGreaterThan, h.v, 0, failMark))
				case profile.OpGe:
					code = append(code, j(bpf.JumpGreaterOrEqual, h.v, 0, failMark))
				case profile.OpLt:
					code = append(code, j(bpf.JumpGreaterOrEqual, h.v, failMark, 0))
				case profile.OpLe:
					code = append(code, j(bpf.JumpGreaterThan, h.v, failMark, 0))
				}
				mark()
			}
		}
	}
	return code, fails
}

// encode writes a program as struct sock_filter array in the byte order
// of arch, as libseccomp exports it.
func encode(arch profile.Arch, prog []bpf.RawInstruction) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	if arch.BigEndian {
		bo = binary.BigEndian
	}
	b := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		b = bo.AppendUint16(b, in.Op)
		b = append(b, in.Jt, in.Jf)
		b = bo.AppendUint32(b, in.K)
	}
	return b
}

// listing is the review text of a program the emitter made, the
// counterpart of libseccomp's PFC: one instruction a line.
func listing(arch profile.Arch, mode string, prog []bpf.RawInstruction, notes []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# seccomp filter for mode %s on %s (AUDIT_ARCH %#x), by cmd/seccompgen's emitter\n", mode, arch.Name, arch.Audit)
	fmt.Fprintf(&b, "# %d instructions; seccomp_data: nr at 0, arch at 4, args at 16+8*N\n", len(prog))
	for i, in := range prog {
		fmt.Fprintf(&b, "%04d: %-20v # %s\n", i, in.Disassemble(), notes[i])
	}
	return []byte(b.String())
}
