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

// Sections of a profile. SectionCommon applies to every mode.
const (
	SectionCommon = "common"
	SectionDenied = "denied"
)

// Modes are the sections that name a filter of their own, in output order.
var Modes = []string{"passt", "pasta"}

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
}

// Match reports whether the argument vector satisfies c, comparing all 64
// bits as the compiled filter does on 64-bit architectures.
func (c Cond) Match(args *[6]uint64) bool {
	a := args[c.Arg]
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
	Syscall string // name as in the kernel's syscall table (libseccomp spelling)
	Conds   []Cond // AND'ed; empty means unconditional
	Reason  string // who needs it
	Section string // section the rule came from
	Line    int    // 1-based line number in the profile
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
// valid names, a reason on every rule, no duplicates, no syscall both
// unconditional and conditional in one mode, no denied syscall allowed.
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
				return nil, errAt(line, "bad section header %q (want [common], [passt], [pasta] or [denied])", text)
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
	return s == SectionCommon || s == SectionDenied || slices.Contains(Modes, s)
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
	if section == SectionDenied && len(f) > 1 {
		return nil, errAt(line, "conditions in [denied]")
	}
	var conds []Cond
	var alts []uint64 // alternatives of the one cond that has them
	altIdx := -1
	seenArg := map[uint]bool{}
	for i := 1; i < len(f); {
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
	if altIdx < 0 {
		return []Rule{{Syscall: name, Conds: conds, Reason: reason, Section: section, Line: line}}, nil
	}
	rules := make([]Rule, 0, len(alts))
	for _, v := range alts {
		cs := slices.Clone(conds)
		cs[altIdx].Value = v
		rules = append(rules, Rule{Syscall: name, Conds: cs, Reason: reason, Section: section, Line: line})
	}
	return rules, nil
}

// parseCond parses one condition from the front of f and returns it, its
// alternative values, and the number of fields consumed.
func parseCond(f []string, line int) (Cond, []uint64, int, error) {
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
		m, err := parseValue(f[2], line)
		if err != nil {
			return Cond{}, nil, 0, err
		}
		c.Op, c.Mask, valTok, n = OpMaskedEq, m, f[4], 5
	} else {
		i := slices.Index(opNames[:], opTok)
		if i < 0 {
			return Cond{}, nil, 0, errAt(line, "unknown operator %q", opTok)
		}
		c.Op = Op(i)
	}
	var vals []uint64
	parts := strings.Split(valTok, "|")
	if len(parts) > 1 && c.Op != OpEq {
		return Cond{}, nil, 0, errAt(line, "alternatives (a|b) only with ==")
	}
	for _, s := range parts {
		v, err := parseValue(s, line)
		if err != nil {
			return Cond{}, nil, 0, err
		}
		if slices.Contains(vals, v) {
			return Cond{}, nil, 0, errAt(line, "value %q listed twice", s)
		}
		vals = append(vals, v)
	}
	if c.Op == OpMaskedEq && vals[0]&^c.Mask != 0 {
		return Cond{}, nil, 0, errAt(line, "value %#x has bits outside mask %#x: never matches", vals[0], c.Mask)
	}
	c.Value = vals[0]
	return c, vals, n, nil
}

func parseValue(s string, line int) (uint64, error) {
	if v, ok := Constants[s]; ok {
		return v, nil
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, errAt(line, "bad value %q: not a number or a known constant", s)
	}
	return v, nil
}

// check enforces the cross-line rules.
func (p *Profile) check() error {
	denied := map[string]int{}
	for _, r := range p.Denied {
		if l, dup := denied[r.Syscall]; dup {
			return errAt(r.Line, "%s denied twice (first at line %d)", r.Syscall, l)
		}
		denied[r.Syscall] = r.Line
	}
	for _, mode := range Modes {
		seen := map[string]int{}
		uncond := map[string]bool{}
		cond := map[string]bool{}
		for _, r := range p.ModeRules(mode) {
			if l, ok := denied[r.Syscall]; ok {
				return errAt(r.Line, "%s is allowed but listed in [denied] at line %d", r.Syscall, l)
			}
			k := r.key()
			if l, dup := seen[k]; dup && l != r.Line {
				return errAt(r.Line, "duplicate rule %q in mode %s (first at line %d)", k, mode, l)
			}
			seen[k] = r.Line
			if len(r.Conds) == 0 {
				uncond[r.Syscall] = true
			} else {
				cond[r.Syscall] = true
			}
			if uncond[r.Syscall] && cond[r.Syscall] {
				return errAt(r.Line, "%s is both unconditional and conditional in mode %s", r.Syscall, mode)
			}
		}
	}
	return nil
}

// ModeRules returns the rules of a mode: [common] then the mode's section,
// in file order.
func (p *Profile) ModeRules(mode string) []Rule {
	var out []Rule
	for _, r := range p.Rules {
		if r.Section == SectionCommon {
			out = append(out, r)
		}
	}
	for _, r := range p.Rules {
		if r.Section == mode {
			out = append(out, r)
		}
	}
	return out
}

// Syscalls returns the sorted, distinct syscall names a mode allows.
func (p *Profile) Syscalls(mode string) []string {
	var names []string
	for _, r := range p.ModeRules(mode) {
		names = append(names, r.Syscall)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// AllNames returns every syscall name the profile mentions, allowed or
// denied, sorted.
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
