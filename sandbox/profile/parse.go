// SPDX-License-Identifier: GPL-2.0-or-later

package profile

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Sections of a profile. SectionRuntime applies to every mode;
// SectionCommon to the daemons' modes (every mode but ModeWaiter).
const (
	SectionRuntime = "runtime"
	SectionCommon  = "common"
	SectionDenied  = "denied"
)

// ModeWaiter is the filter of the foreground launchers that only wait for
// their child (sandbox.ConfineWaiter): [runtime] and [waiter], without
// the daemons' [common].
const ModeWaiter = "waiter"

// Modes are the sections that name a filter of their own, in output order.
var Modes = []string{"passt", "pasta", ModeWaiter}

// Includes returns the shared sections a mode's filter includes before
// its own section, in order.
func Includes(mode string) []string {
	if mode == ModeWaiter {
		return []string{SectionRuntime}
	}
	return []string{SectionRuntime, SectionCommon}
}

// MaxArg is the highest syscall argument index (seccomp_data.args has six).
const MaxArg = 5

// Op is a comparison in a condition.
type Op uint8

// Comparisons, as libseccomp's SCMP_CMP_*.
const (
	OpEq       Op = iota // arg == Value
	OpNe                 // arg != Value
	OpLt                 // arg < Value
	OpLe                 // arg <= Value
	OpGt                 // arg > Value
	OpGe                 // arg >= Value
	OpMaskedEq           // arg & Mask == Value
)

var opNames = [...]string{"==", "!=", "<", "<=", ">", ">="}

// String returns the operator as written in a profile.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	if o == OpMaskedEq {
		return "&=="
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Cond restricts one syscall argument.
type Cond struct {
	Arg   uint   // argument index, 0..MaxArg
	Op    Op     // comparison
	Mask  uint64 // only for OpMaskedEq
	Value uint64 // compared value
	// MaskSym and ValueSym name the constants Mask and Value came from
	// ("" for numbers): ArchRules resolves them for the architecture.
	MaskSym, ValueSym string
	// Bits32 compares only the low 32 bits of the argument and of Mask
	// and Value, as the compiled filter of a 32-bit architecture does
	// (its arguments are 32-bit registers). ArchRules sets it.
	Bits32 bool
}

// Match reports whether the argument vector satisfies c, comparing all 64
// bits as the compiled filter does on 64-bit architectures, or the low 32
// with Bits32.
func (c Cond) Match(args *[6]uint64) bool {
	a := args[c.Arg]
	if c.Bits32 {
		a, c.Mask, c.Value = uint64(uint32(a)), uint64(uint32(c.Mask)), uint64(uint32(c.Value))
	}
	switch c.Op {
	case OpEq:
		return a == c.Value
	case OpNe:
		return a != c.Value
	case OpLt:
		return a < c.Value
	case OpLe:
		return a <= c.Value
	case OpGt:
		return a > c.Value
	case OpGe:
		return a >= c.Value
	case OpMaskedEq:
		return a&c.Mask == c.Value
	}
	return false
}

// String returns c in profile syntax.
func (c Cond) String() string {
	if c.Op == OpMaskedEq {
		return fmt.Sprintf("arg%d & %#x == %#x", c.Arg, c.Mask, c.Value)
	}
	return fmt.Sprintf("arg%d %s %#x", c.Arg, c.Op, c.Value)
}

// Rule allows one syscall when all its conditions hold.
type Rule struct {
	Syscall string   // name as in the kernel's syscall table (libseccomp spelling)
	Conds   []Cond   // AND'ed; empty means unconditional
	Arches  []string // architectures the rule applies to (GOARCH names), in Arches order; nil: all
	Reason  string   // who needs it
	Section string   // section the rule came from
	Line    int      // 1-based line number in the profile
}

func (r Rule) key() string {
	var b strings.Builder
	b.WriteString(r.Syscall)
	for _, c := range r.Conds {
		b.WriteByte(' ')
		b.WriteString(c.String())
	}
	return b.String()
}

// Profile is a parsed seccomp.profile.
type Profile struct {
	Rules  []Rule // allow rules of every section, in file order
	Denied []Rule // the [denied] section: documented absences
}

// ParseError is a syntax or consistency error at a line of the profile.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("seccomp.profile:%d: %s", e.Line, e.Msg) }

func errAt(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// maxLineLen bounds a profile line; the scanner refuses longer ones.
const maxLineLen = 4096

// Parse parses a profile and checks it for consistency: known sections,
// valid names, a reason on every rule, known architectures, no duplicates,
// no syscall both unconditional and conditional in one mode on one
// architecture, no denied syscall allowed.
func Parse(src []byte) (*Profile, error) {
	p := &Profile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 256), maxLineLen)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if strings.HasPrefix(text, "[") {
			name, ok := strings.CutPrefix(text, "[")
			name, ok2 := strings.CutSuffix(name, "]")
			if !ok || !ok2 || !validSection(name) {
				return nil, errAt(line, "bad section header %q (want [runtime], [common], [passt], [pasta], [waiter] or [denied])", text)
			}
			section = name
			continue
		}
		if section == "" {
			return nil, errAt(line, "rule before the first section header")
		}
		rules, err := parseRule(text, section, line)
		if err != nil {
			return nil, err
		}
		if section == SectionDenied {
			p.Denied = append(p.Denied, rules...)
		} else {
			p.Rules = append(p.Rules, rules...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errAt(line+1, "%v", err)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

func validSection(s string) bool {
	return s == SectionRuntime || s == SectionCommon || s == SectionDenied || slices.Contains(Modes, s)
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseRule parses "name [cond ...] # reason" and expands alternatives.
func parseRule(text, section string, line int) ([]Rule, error) {
	body, reason, ok := strings.Cut(text, "#")
	reason = strings.TrimSpace(reason)
	if !ok || reason == "" {
		return nil, errAt(line, "rule without a reason (append \"# who needs it\")")
	}
	f := strings.Fields(body)
	name := f[0]
	if !validName(name) {
		return nil, errAt(line, "bad syscall name %q", name)
	}
	var conds []Cond
	var alts []Cond // alternatives of the one cond that has them
	var arches []string
	altIdx := -1
	seenArg := map[uint]bool{}
	for i := 1; i < len(f); {
		if f[i] == "arch" {
			if arches != nil {
				return nil, errAt(line, "two arch qualifiers")
			}
			a, err := parseArches(f[i:], line)
			if err != nil {
				return nil, err
			}
			arches = a
			i += 3
			continue
		}
		c, vals, n, err := parseCond(f[i:], line)
		if err != nil {
			return nil, err
		}
		i += n
		if seenArg[c.Arg] {
			return nil, errAt(line, "two conditions on arg%d", c.Arg)
		}
		seenArg[c.Arg] = true
		if len(vals) > 1 {
			if altIdx >= 0 {
				return nil, errAt(line, "alternatives (a|b) in more than one condition")
			}
			altIdx, alts = len(conds), vals
		}
		conds = append(conds, c)
	}
	if section == SectionDenied && len(conds) > 0 {
		return nil, errAt(line, "conditions in [denied]")
	}
	if altIdx < 0 {
		return []Rule{{Syscall: name, Conds: conds, Arches: arches, Reason: reason, Section: section, Line: line}}, nil
	}
	rules := make([]Rule, 0, len(alts))
	for _, v := range alts {
		cs := slices.Clone(conds)
		cs[altIdx] = v
		rules = append(rules, Rule{Syscall: name, Conds: cs, Arches: arches, Reason: reason, Section: section, Line: line})
	}
	return rules, nil
}

// parseArches parses "arch == a|b" or "arch != a|b" and returns the
// architectures the rule applies to, in Arches order.
func parseArches(f []string, line int) ([]string, error) {
	if len(f) < 3 || (f[1] != "==" && f[1] != "!=") {
		return nil, errAt(line, "arch qualifier must read \"arch == a|b\" or \"arch != a|b\"")
	}
	var named []string
	for _, s := range strings.Split(f[2], "|") {
		if _, ok := ArchByName(s); !ok {
			return nil, errAt(line, "unknown architecture %q (want one of %s)", s, strings.Join(archNames(), " "))
		}
		if slices.Contains(named, s) {
			return nil, errAt(line, "architecture %q listed twice", s)
		}
		named = append(named, s)
	}
	out := []string{}
	for _, a := range archNames() {
		if slices.Contains(named, a) == (f[1] == "==") {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errAt(line, "arch qualifier excludes every architecture")
	}
	return out, nil
}

// parseCond parses one condition from the front of f and returns it, its
// alternatives (one condition per value), and the number of fields consumed.
func parseCond(f []string, line int) (Cond, []Cond, int, error) {
	argTok := f[0]
	num, ok := strings.CutPrefix(argTok, "arg")
	if !ok || len(num) != 1 || num[0] < '0' || num[0] > '0'+MaxArg {
		return Cond{}, nil, 0, errAt(line, "want arg0..arg%d, got %q", MaxArg, argTok)
	}
	c := Cond{Arg: uint(num[0] - '0')}
	if len(f) < 3 {
		return Cond{}, nil, 0, errAt(line, "incomplete condition after %q", argTok)
	}
	n := 3
	opTok, valTok := f[1], f[2]
	if opTok == "&" {
		if len(f) < 5 || f[3] != "==" {
			return Cond{}, nil, 0, errAt(line, "masked condition must read \"argN & MASK == VALUE\"")
		}
		m, sym, err := parseValue(f[2], line)
		if err != nil {
			return Cond{}, nil, 0, err
		}
		c.Op, c.Mask, c.MaskSym, valTok, n = OpMaskedEq, m, sym, f[4], 5
	} else {
		i := slices.Index(opNames[:], opTok)
		if i < 0 {
			return Cond{}, nil, 0, errAt(line, "unknown operator %q", opTok)
		}
		c.Op = Op(i)
	}
	var alts []Cond
	parts := strings.Split(valTok, "|")
	if len(parts) > 1 && c.Op != OpEq {
		return Cond{}, nil, 0, errAt(line, "alternatives (a|b) only with ==")
	}
	for _, s := range parts {
		v, sym, err := parseValue(s, line)
		if err != nil {
			return Cond{}, nil, 0, err
		}
		if slices.ContainsFunc(alts, func(a Cond) bool { return a.Value == v }) {
			return Cond{}, nil, 0, errAt(line, "value %q listed twice", s)
		}
		a := c
		a.Value, a.ValueSym = v, sym
		alts = append(alts, a)
	}
	if c.Op == OpMaskedEq && alts[0].Value&^c.Mask != 0 {
		return Cond{}, nil, 0, errAt(line, "value %#x has bits outside mask %#x: never matches", alts[0].Value, c.Mask)
	}
	return alts[0], alts, n, nil
}

// parseValue returns the value of a number or a constant, and the
// constant's name.
func parseValue(s string, line int) (uint64, string, error) {
	if v, ok := Constants[s]; ok {
		return v, s, nil
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, "", errAt(line, "bad value %q: not a number or a known constant", s)
	}
	return v, "", nil
}

// check enforces the cross-line rules, on every architecture.
func (p *Profile) check() error {
	for _, arch := range Arches {
		denied := map[string]int{}
		for _, r := range p.Denied {
			if !r.AppliesTo(arch.Name) {
				continue
			}
			if l, dup := denied[r.Syscall]; dup {
				return errAt(r.Line, "%s denied twice (first at line %d)", r.Syscall, l)
			}
			denied[r.Syscall] = r.Line
		}
		for _, mode := range Modes {
			seen := map[string]int{}
			uncond := map[string]bool{}
			cond := map[string]bool{}
			for _, r := range p.ArchRules(mode, arch.Name) {
				if l, ok := denied[r.Syscall]; ok {
					return errAt(r.Line, "%s is allowed but listed in [denied] at line %d", r.Syscall, l)
				}
				k := r.key()
				if l, dup := seen[k]; dup && l != r.Line {
					return errAt(r.Line, "duplicate rule %q in mode %s on %s (first at line %d)", k, mode, arch.Name, l)
				}
				seen[k] = r.Line
				if len(r.Conds) == 0 {
					uncond[r.Syscall] = true
				} else {
					cond[r.Syscall] = true
				}
				if uncond[r.Syscall] && cond[r.Syscall] {
					return errAt(r.Line, "%s is both unconditional and conditional in mode %s on %s", r.Syscall, mode, arch.Name)
				}
			}
		}
	}
	return nil
}

// AppliesTo reports whether the rule applies on the architecture.
func (r Rule) AppliesTo(arch string) bool {
	return r.Arches == nil || slices.Contains(r.Arches, arch)
}

// ModeRules returns the rules of a mode: the sections it includes
// (Includes), then its own, each in file order, for every architecture,
// with the generic values of the constants. The filters are compiled from
// ArchRules.
func (p *Profile) ModeRules(mode string) []Rule {
	var out []Rule
	for _, section := range append(Includes(mode), mode) {
		for _, r := range p.Rules {
			if r.Section == section {
				out = append(out, r)
			}
		}
	}
	return out
}

// ArchRules returns the rules of a mode that apply on arch, in the order of
// ModeRules, with the constants resolved for arch and, on a 32-bit
// architecture, Bits32 set in every condition.
func (p *Profile) ArchRules(mode, arch string) []Rule {
	a, _ := ArchByName(arch)
	var out []Rule
	for _, r := range p.ModeRules(mode) {
		if !r.AppliesTo(arch) {
			continue
		}
		r.Conds = slices.Clone(r.Conds)
		for i := range r.Conds {
			c := &r.Conds[i]
			if v, ok := constant(c.ValueSym, arch); ok && c.ValueSym != "" {
				c.Value = v
			}
			if v, ok := constant(c.MaskSym, arch); ok && c.MaskSym != "" {
				c.Mask = v
			}
			c.Bits32 = a.Bits == 32
		}
		out = append(out, r)
	}
	return out
}

// ArchDenied returns the [denied] rules that apply on arch.
func (p *Profile) ArchDenied(arch string) []Rule {
	var out []Rule
	for _, r := range p.Denied {
		if r.AppliesTo(arch) {
			out = append(out, r)
		}
	}
	return out
}

// Syscalls returns the sorted, distinct syscall names a mode allows on
// some architecture.
func (p *Profile) Syscalls(mode string) []string {
	var names []string
	for _, r := range p.ModeRules(mode) {
		names = append(names, r.Syscall)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// AllNames returns every syscall name the profile mentions, allowed or
// denied, on any architecture, sorted.
func (p *Profile) AllNames() []string {
	var names []string
	for _, r := range p.Rules {
		names = append(names, r.Syscall)
	}
	for _, r := range p.Denied {
		names = append(names, r.Syscall)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Allows reports whether rules allow the syscall name with args: some rule
// for name has all its conditions satisfied.
func Allows(rules []Rule, name string, args *[6]uint64) bool {
	for _, r := range rules {
		if r.Syscall != name {
			continue
		}
		ok := true
		for _, c := range r.Conds {
			if !c.Match(args) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
