// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Forward is the accumulated result of one kind of -t/-u/-T/-U option: every
// spec given for it, in order, plus a compiled per-port table for the hot
// path. Build it with ParseForward; the zero value forwards nothing.
//
// A Forward is not safe for concurrent mutation; once built, Lookup,
// LookupRule and Listeners may be called concurrently.
type Forward struct {
	Mode  ForwardMode // none, explicit ports, all, or auto
	Rules []PortRule  // in the order given; excludes apply to every rule

	// Ephemeral is the host's ephemeral port range (inclusive), never
	// covered by "all". Filled from DefaultEphemeral when the Forward is
	// created; change it with SetEphemeral.
	Ephemeral PortRange

	// table maps a port to 1 + the index in Rules of the rule that
	// forwards it, 0 meaning "not forwarded": passt's fwd_ports{map,delta}
	// in one array. Built by compile; nil until the first rule.
	table []uint16
}

// PortRule is one entry of a spec: a range of ports with where they go.
type PortRule struct {
	Bind    netip.Addr // listen address; invalid = any ("*" or none given)
	Iface   string     // listen interface (%IFNAME); "" = any
	First   uint16     // first port of the range, host side for -t/-u
	Last    uint16     // last port of the range, inclusive
	ToFirst uint16     // target port of First; port p goes to ToFirst+(p-First)
	ToAddr  netip.Addr // target address; invalid = the guest's own
	Exclude bool       // "~FIRST[-LAST]": never forward these ports

	// All marks a rule from "all" or from a spec made only of excludes:
	// First..Last is 1..65535, but ports in Forward.Ephemeral are skipped.
	All bool
	// Auto marks a rule from a spec containing "auto" (pasta): ports in
	// First..Last are forwarded only while something listens on them on
	// the other side. Listeners leaves them out; the engine scans.
	Auto bool
}

// PortRange is an inclusive range of ports.
type PortRange struct{ First, Last uint16 }

// Contains reports whether p lies in r.
func (r PortRange) Contains(p uint16) bool { return p >= r.First && p <= r.Last }

// Listener is one socket to open for a Forward: one port on one bind
// address and interface.
type Listener struct {
	Bind   netip.Addr // invalid = any
	Iface  string     // "" = any
	Port   uint16     // port to listen on
	ToPort uint16     // port on the other side
	ToAddr netip.Addr // invalid = the guest's own address
}

// DefaultEphemeral is the Linux default of net.ipv4.ip_local_port_range.
var DefaultEphemeral = PortRange{32768, 60999}

// MaxPortRules bounds the number of rules in one Forward.
const MaxPortRules = 4096

// ErrForwardConflict is wrapped by ParseForward's error when "none" is mixed
// with other rules, or "all" with "auto".
var ErrForwardConflict = errors.New("conflicts with previous options")

// ParseForward parses one -t/-u/-T/-U argument and accumulates it onto prev,
// as repeated options do in passt. prev may be nil. On error prev is left
// unchanged and the error names the offending part of spec.
//
// Grammar (passt.1, fwd_rule.c):
//
//	spec   := none | [ADDR][%IFNAME]/ports | ports
//	ports  := entry[,entry]...
//	entry  := FIRST[-LAST][:TARGET] | ~FIRST[-LAST] | all[:TOADDR] | auto
//	TARGET := [TOADDR/]TOFIRST[-TOLAST] | TOADDR
//
// ADDR and TOADDR may be bracketed; ADDR may be "*" (any). A spec made only
// of excludes forwards every other non-ephemeral port. "auto" is pasta-only
// and makes the other ranges of its spec conditional on being bound.
// Excludes apply to the whole Forward, also to rules of other specs.
// "none" conflicts with any other rule, before or after it; a non-nil prev
// with Mode none and no rules counts as "none", so pass nil to start afresh.
// An IPv6 target address must be bracketed when no bind address is given
// ("22:[2001:db8::1]/22"), as "22:2001:db8::1" reads as a bind address.
func ParseForward(spec string, prev *Forward, mode Mode) (*Forward, error) {
	f := prev
	if f == nil {
		f = &Forward{Ephemeral: DefaultEphemeral}
	}
	// A non-nil prev with Mode none and no rules means "none" was given.
	prevNone := prev != nil && prev.Mode == ForwardNone && len(prev.Rules) == 0
	if spec == "none" {
		if prev != nil && !prevNone {
			return nil, fmt.Errorf("port forwarding spec %q: %w", spec, ErrForwardConflict)
		}
		f.Mode = ForwardNone
		f.compile()
		return f, nil
	}
	if prevNone {
		return nil, fmt.Errorf("port forwarding spec %q: %w (none)", spec, ErrForwardConflict)
	}

	rules, err := parseSpec(spec, mode)
	if err != nil {
		return nil, err
	}
	if len(f.Rules)+len(rules) > MaxPortRules {
		return nil, fmt.Errorf("port forwarding spec %q: more than %d rules", spec, MaxPortRules)
	}
	all, auto := f.Mode == ForwardAll, f.Mode == ForwardAuto
	for _, r := range rules {
		all = all || r.All
		auto = auto || r.Auto
	}
	if all && auto {
		return nil, fmt.Errorf("port forwarding spec %q: 'all' and 'auto' %w", spec, ErrForwardConflict)
	}
	f.Rules = append(f.Rules, rules...)
	switch {
	case all:
		f.Mode = ForwardAll
	case auto:
		f.Mode = ForwardAuto
	default:
		f.Mode = ForwardSpec
	}
	f.compile()
	return f, nil
}

// parseSpec parses one spec other than "none" into rules.
func parseSpec(spec string, mode Mode) ([]PortRule, error) {
	bad := func(part, why string) error {
		return fmt.Errorf("port forwarding spec %q: invalid %q: %s", spec, part, why)
	}
	if spec == "" {
		return nil, bad(spec, "empty")
	}
	var bind netip.Addr
	var iface string
	ports := spec
	if i := strings.IndexByte(spec, '/'); i >= 0 {
		if b, ifn, ok := parseBind(spec[:i]); ok {
			bind, iface, ports = b, ifn, spec[i+1:]
		}
	}

	var rules []PortRule
	var excludes []PortRule
	includes, autoSeen := 0, false
	for _, ent := range strings.Split(ports, ",") {
		switch {
		case ent == "":
			return nil, bad(ent, "empty entry")
		case ent == "auto":
			if mode != ModePasta {
				return nil, bad(ent, "'auto' port forwarding is only allowed for pasta")
			}
			if autoSeen {
				return nil, bad(ent, "repeated")
			}
			autoSeen = true
		case ent[0] == '~':
			r, err := parseRange(ent[1:])
			if err != nil {
				return nil, bad(ent, err.Error())
			}
			excludes = append(excludes, PortRule{First: r.First, Last: r.Last, ToFirst: r.First, Exclude: true})
		case ent == "all" || strings.HasPrefix(ent, "all:"):
			r := PortRule{Bind: bind, Iface: iface, First: 1, Last: 65535, ToFirst: 1, All: true}
			if to, ok := strings.CutPrefix(ent, "all:"); ok {
				a, ok := parseAddr(to)
				if !ok {
					return nil, bad(ent, "bad target address")
				}
				r.ToAddr = a
			}
			rules = append(rules, r)
			includes++
		default:
			r, err := parseEntry(ent)
			if err != nil {
				return nil, bad(ent, err.Error())
			}
			r.Bind, r.Iface = bind, iface
			rules = append(rules, r)
			includes++
		}
	}
	if autoSeen {
		if includes == 0 {
			rules = append(rules, PortRule{Bind: bind, Iface: iface, First: 1, Last: 65535, ToFirst: 1})
		}
		for i := range rules {
			if rules[i].All {
				return nil, bad("all", "'all' and 'auto' "+ErrForwardConflict.Error())
			}
			rules[i].Auto = true
		}
	} else if includes == 0 {
		// Only excludes: everything else that is not ephemeral.
		rules = append(rules, PortRule{Bind: bind, Iface: iface, First: 1, Last: 65535, ToFirst: 1, All: true})
	}
	return append(rules, excludes...), nil
}

// parseBind parses "[ADDR][%IFNAME]", "*" or "*%IFNAME". ok is false if s is
// not a bind prefix at all (then the '/' belongs to a target address).
func parseBind(s string) (addr netip.Addr, iface string, ok bool) {
	a := s
	if i := strings.LastIndexByte(s, '%'); i >= 0 && !strings.Contains(s[i:], "]") {
		a, iface = s[:i], s[i+1:]
		if iface == "" || len(iface) > 15 || strings.ContainsAny(iface, "/,:%~[]* ") {
			return netip.Addr{}, "", false
		}
	}
	switch a {
	case "*":
		return netip.Addr{}, iface, true
	case "":
		return netip.Addr{}, iface, iface != ""
	}
	addr, ok = parseAddr(a)
	return addr, iface, ok
}

// parseAddr parses an address, optionally bracketed, without a zone.
func parseAddr(s string) (netip.Addr, bool) {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// parseEntry parses FIRST[-LAST][:TARGET].
func parseEntry(ent string) (PortRule, error) {
	src, target, hasTarget := strings.Cut(ent, ":")
	r, err := parseRange(src)
	if err != nil {
		return PortRule{}, err
	}
	rule := PortRule{First: r.First, Last: r.Last, ToFirst: r.First}
	if !hasTarget {
		return rule, nil
	}
	toPorts := target
	if i := strings.LastIndexByte(target, '/'); i >= 0 {
		a, ok := parseAddr(target[:i])
		if !ok {
			return PortRule{}, errors.New("bad target address")
		}
		rule.ToAddr, toPorts = a, target[i+1:]
	} else if _, err := parseRange(target); err != nil {
		// FIRST[-LAST]:TOADDR, same ports.
		a, ok := parseAddr(target)
		if !ok {
			return PortRule{}, errors.New("bad target port or address")
		}
		rule.ToAddr = a
		return rule, nil
	}
	to, err := parseRange(toPorts)
	if err != nil {
		return PortRule{}, fmt.Errorf("target: %w", err)
	}
	n := r.Last - r.First
	if to.First != to.Last && to.Last-to.First != n {
		return PortRule{}, errors.New("target range size differs from source range")
	}
	if uint32(to.First)+uint32(n) > 65535 {
		return PortRule{}, errors.New("target range exceeds port 65535")
	}
	rule.ToFirst = to.First
	return rule, nil
}

// parseRange parses FIRST[-LAST], ports 1..65535, FIRST <= LAST.
func parseRange(s string) (PortRange, error) {
	a, b, isRange := strings.Cut(s, "-")
	first, err := parsePort(a)
	if err != nil {
		return PortRange{}, err
	}
	last := first
	if isRange {
		if last, err = parsePort(b); err != nil {
			return PortRange{}, err
		}
		if last < first {
			return PortRange{}, errors.New("range end before start")
		}
	}
	return PortRange{first, last}, nil
}

// parsePort parses a decimal port 1..65535, digits only.
func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, errors.New("bad port")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("bad port")
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return 0, errors.New("port out of range 1-65535")
	}
	return uint16(n), nil
}

// SetEphemeral changes the ephemeral range skipped by "all" rules.
func (f *Forward) SetEphemeral(r PortRange) {
	f.Ephemeral = r
	f.compile()
}

// compile rebuilds the per-port table. The first include rule covering a
// port wins; any exclude covering it removes it; "all" rules skip
// ephemeral ports.
func (f *Forward) compile() {
	if f.table == nil {
		f.table = make([]uint16, 65536)
	} else {
		clear(f.table)
	}
	for i := len(f.Rules) - 1; i >= 0; i-- {
		r := &f.Rules[i]
		if r.Exclude {
			continue
		}
		for p := int(r.First); p <= int(r.Last); p++ {
			if r.All && f.Ephemeral.Contains(uint16(p)) {
				continue
			}
			f.table[p] = uint16(i + 1)
		}
	}
	for i := range f.Rules {
		r := &f.Rules[i]
		if !r.Exclude {
			continue
		}
		for p := int(r.First); p <= int(r.Last); p++ {
			f.table[p] = 0
		}
	}
}

// LookupRule returns the rule forwarding port, if any: the first include
// rule covering it, unless an exclude covers it. Bind addresses are not
// considered, as in passt's fwd_ports table. O(1), no allocation.
func (f *Forward) LookupRule(port uint16) (*PortRule, bool) {
	if f == nil || f.table == nil {
		return nil, false
	}
	i := f.table[port]
	if i == 0 {
		return nil, false
	}
	return &f.Rules[i-1], true
}

// Lookup returns the port that port is forwarded to. For Auto rules, the
// caller must also check that the port is bound on the other side.
func (f *Forward) Lookup(port uint16) (toPort uint16, ok bool) {
	r, ok := f.LookupRule(port)
	if !ok {
		return 0, false
	}
	return r.ToFirst + (port - r.First), true
}

// Listeners expands the rules into the sockets to open: every port of every
// non-Auto include rule, skipping excluded ports, and for "all" rules
// skipping the ephemeral range (so "all" is 1..Ephemeral.First-1 plus
// Ephemeral.Last+1..65535, as passt's fwd_port_is_ephemeral()). A port on
// the same bind address and interface is listed once, for the first rule.
func (f *Forward) Listeners() []Listener {
	if f == nil || f.Mode == ForwardNone {
		return nil
	}
	excluded := make([]bool, 65536)
	for _, r := range f.Rules {
		if r.Exclude {
			for p := int(r.First); p <= int(r.Last); p++ {
				excluded[p] = true
			}
		}
	}
	type key struct {
		bind  netip.Addr
		iface string
		port  uint16
	}
	seen := make(map[key]bool)
	var out []Listener
	for _, r := range f.Rules {
		if r.Exclude || r.Auto {
			continue
		}
		for p := int(r.First); p <= int(r.Last); p++ {
			if excluded[p] || (r.All && f.Ephemeral.Contains(uint16(p))) {
				continue
			}
			k := key{r.Bind, r.Iface, uint16(p)}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, Listener{
				Bind: r.Bind, Iface: r.Iface, Port: uint16(p),
				ToPort: r.ToFirst + uint16(p-int(r.First)), ToAddr: r.ToAddr,
			})
		}
	}
	return out
}

// Specs renders f as specs which, given in order to ParseForward, rebuild
// the same rules: one spec per include rule, the excludes appended to the
// first.
func (f *Forward) Specs() []string {
	if f == nil || f.Mode == ForwardNone || len(f.Rules) == 0 {
		return []string{"none"}
	}
	var excl []string
	for _, r := range f.Rules {
		if r.Exclude {
			excl = append(excl, "~"+rangeString(r.First, r.Last))
		}
	}
	var out []string
	for _, r := range f.Rules {
		if r.Exclude {
			continue
		}
		var b strings.Builder
		if r.Bind.IsValid() || r.Iface != "" {
			if r.Bind.IsValid() {
				if r.Bind.Is6() {
					b.WriteString("[" + r.Bind.String() + "]")
				} else {
					b.WriteString(r.Bind.String())
				}
			} else if r.Iface == "" {
				b.WriteString("*")
			}
			if r.Iface != "" {
				b.WriteString("%" + r.Iface)
			}
			b.WriteString("/")
		}
		switch {
		case r.All:
			b.WriteString("all")
			if r.ToAddr.IsValid() {
				b.WriteString(":" + addrString(r.ToAddr))
			}
		default:
			b.WriteString(rangeString(r.First, r.Last))
			if r.ToFirst != r.First || r.ToAddr.IsValid() {
				b.WriteString(":")
				if r.ToAddr.IsValid() {
					b.WriteString(addrString(r.ToAddr) + "/")
				}
				b.WriteString(rangeString(r.ToFirst, r.ToFirst+(r.Last-r.First)))
			}
			if r.Auto {
				b.WriteString(",auto")
			}
		}
		if out == nil && len(excl) > 0 {
			b.WriteString("," + strings.Join(excl, ","))
		}
		out = append(out, b.String())
	}
	return out
}

// String returns Specs joined by spaces, for logs.
func (f *Forward) String() string { return strings.Join(f.Specs(), " ") }

func rangeString(first, last uint16) string {
	if first == last {
		return strconv.Itoa(int(first))
	}
	return strconv.Itoa(int(first)) + "-" + strconv.Itoa(int(last))
}

func addrString(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}
