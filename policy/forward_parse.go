// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
)

// ParseForward parses one -t/-u/-T/-U argument and adds its rules to prev,
// as repeated options do in passt 2026 (fwd_rule_parse()). A nil prev
// starts a -t Forward with DefaultEphemeral; make others with NewForward.
// On error prev is unchanged and the error names the offending part.
//
// Grammar (passt.1):
//
//	spec    := none | [LISTEN/]ports
//	LISTEN  := [ADDR][%IFNAME] | *[%IFNAME]
//	ports   := entry[,entry]...
//	entry   := RANGE[:TARGET] | ~RANGE | all[:TOADDR] | auto
//	RANGE   := FIRST[-LAST]
//	TARGET  := [TOADDR/]RANGE | TOADDR
//
// What passt 2026 does with it, and so do we (checked against its binary
// by testdata/forward_specs.sh):
//
//   - "none" forwards nothing; given after rules of the same option it is
//     a conflict, before them it is a no-op ("-t none -t 80" is "-t 80").
//   - The excludes of a spec cut the ranges of that spec only, splitting
//     them ("20-30,~25" is 20-24 and 26-30).
//   - A spec without ranges ("all", "all:TOADDR", only excludes, "auto")
//     covers 1-65535 minus the ephemeral range, best effort. With ranges,
//     "all" has no effect. "auto" (pasta only) makes every rule of its
//     spec follow the ports bound on the other side.
//   - The target range has the size of the source range, or is absent.
//   - A target address needs a listening address of its family: "22:
//     192.0.2.5" (dual stack to IPv4) is refused, "0.0.0.0/22:192.0.2.5"
//     is not. 0.0.0.0 and :: as targets mean none; multicast and broadcast
//     targets are refused. IPv4-mapped addresses count as IPv4.
//   - -T and -U take no LISTEN part: they listen on the namespace's
//     loopback.
//   - A rule overlapping an earlier rule of the same Forward (ports
//     intersect and addresses overlap: "*" overlaps everything, 0.0.0.0
//     every IPv4 address, :: every IPv6 one; interfaces are not
//     considered) is a conflict, within a spec or across specs.
//   - Port numbers read as strtoul(3) does: leading blanks and a sign are
//     allowed (" 22", "+22"); port 0 is refused.
//   - ADDR is an IPv4 or IPv6 address, bare or in brackets; IFNAME is what
//     follows the first '%' up to the '/' (1 to 15 bytes, no blanks), so
//     "fe80::1%eth0/22" listens on fe80::1 on eth0. If what precedes the
//     first '/' is not a LISTEN part, the whole spec is read as ports.
func ParseForward(spec string, prev *Forward, mode Mode) (*Forward, error) {
	f := prev
	if f == nil {
		f = NewForward('t', DefaultEphemeral)
	}
	if spec == "none" {
		if len(f.Rules) > 0 {
			return nil, fmt.Errorf("'none' after other rules: %w", ErrForwardConflict)
		}
		f.compile()
		return f, nil
	}
	rules, err := f.parseSpec(spec, mode)
	if err != nil {
		return nil, err
	}
	if len(f.Rules)+len(rules) > MaxPortRules {
		return nil, fmt.Errorf("port forwarding spec %q: more than %d rules", spec, MaxPortRules)
	}
	n := len(f.Rules)
	all := f.Rules[:n:n] // appending copies: prev stays as it was on error
	for i := range rules {
		if err := f.check(&rules[i], all); err != nil {
			return nil, err
		}
		all = append(all, rules[i])
	}
	f.Rules = all
	f.compile()
	return f, nil
}

// include is one RANGE[:TARGET] entry of a spec.
type include struct {
	src    PortRange
	to     uint16     // target port of src.First
	toAddr netip.Addr // invalid = none
}

// parseSpec parses one spec other than "none" into the rules it adds, in
// order, excludes applied.
func (f *Forward) parseSpec(spec string, mode Mode) ([]PortRule, error) {
	var bind netip.Addr
	var iface string
	ports := spec
	if i := strings.IndexByte(spec, '/'); i >= 0 {
		if b, ifn, ok := parseListen(spec[:i]); ok {
			if f.Opt == 'T' || f.Opt == 'U' {
				return nil, fmt.Errorf("listening address not allowed for -%c %s", f.Opt, spec)
			}
			bind, iface, ports = b, ifn, spec[i+1:]
		}
	}
	bad := fmt.Errorf("invalid port specifier '%s'", ports)

	var incl []include
	var excl []PortRange
	var allAddr netip.Addr
	auto := false
	for _, ent := range strings.Split(ports, ",") {
		switch {
		case ent == "auto":
			if mode != ModePasta {
				return nil, errors.New("'auto' port forwarding is only allowed for pasta")
			}
			auto = true
		case ent == "all":
		case strings.HasPrefix(ent, "all:"):
			a, ok := parseTarget(ent[len("all:"):])
			if !ok {
				return nil, bad
			}
			allAddr = a
		case strings.HasPrefix(ent, "~"):
			r, ok := parseRange(ent[1:])
			if !ok {
				return nil, bad
			}
			excl = append(excl, r)
		default:
			in, ok := parseInclude(ent)
			if !ok {
				return nil, bad
			}
			incl = append(incl, in)
		}
	}

	var rules []PortRule
	if len(incl) == 0 {
		base := PortRule{Bind: bind, Iface: iface, First: 1, Last: 65535, ToFirst: 1,
			ToAddr: allAddr, BestEffort: true, Auto: auto}
		return cut(rules, base, append(excl, f.Ephemeral)), nil
	}
	for _, in := range incl {
		base := PortRule{Bind: bind, Iface: iface, First: in.src.First, Last: in.src.Last,
			ToFirst: in.to, ToAddr: in.toAddr, Auto: auto}
		rules = cut(rules, base, excl)
	}
	return rules, nil
}

// cut appends to rules the pieces of r that no range of out covers, in
// port order, each with its target shifted accordingly.
func cut(rules []PortRule, r PortRule, out []PortRange) []PortRule {
	pieces := []PortRange{{r.First, r.Last}}
	for _, o := range out {
		if o.First > o.Last {
			continue
		}
		var next []PortRange
		for _, p := range pieces {
			if o.Last < p.First || o.First > p.Last {
				next = append(next, p)
				continue
			}
			if o.First > p.First {
				next = append(next, PortRange{p.First, o.First - 1})
			}
			if o.Last < p.Last {
				next = append(next, PortRange{o.Last + 1, p.Last})
			}
		}
		pieces = next
	}
	for _, p := range pieces {
		q := r
		q.First, q.Last = p.First, p.Last
		q.ToFirst = r.ToFirst + (p.First - r.First)
		rules = append(rules, q)
	}
	return rules
}

// parseListen parses the LISTEN part before the first '/': "[ADDR][%IFNAME]"
// or "*[%IFNAME]", ADDR bare or bracketed. ok is false if s is not one.
func parseListen(s string) (addr netip.Addr, iface string, ok bool) {
	a := s
	if i := strings.IndexByte(s, '%'); i >= 0 {
		a, iface = s[:i], s[i+1:]
		if iface == "" || len(iface) > 15 || strings.ContainsAny(iface, " \t\n\v\f\r") {
			return netip.Addr{}, "", false
		}
	}
	if a == "" || a == "*" {
		return netip.Addr{}, iface, true
	}
	addr, ok = parseAddr(a)
	return addr, iface, ok
}

// parseAddr parses an IPv4 or IPv6 address, optionally bracketed, without
// a zone, and unmaps it.
func parseAddr(s string) (netip.Addr, bool) {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseTarget parses a target address: as parseAddr, with the unspecified
// addresses meaning "no target address" (the invalid Addr).
func parseTarget(s string) (netip.Addr, bool) {
	a, ok := parseAddr(s)
	if ok && a.IsUnspecified() {
		a = netip.Addr{}
	}
	return a, ok
}

// parseInclude parses RANGE[:TARGET].
func parseInclude(ent string) (include, bool) {
	src, target, hasTarget := strings.Cut(ent, ":")
	r, ok := parseRange(src)
	if !ok {
		return include{}, false
	}
	in := include{src: r, to: r.First}
	if !hasTarget {
		return in, true
	}
	to := r
	if a, ports, ok := strings.Cut(target, "/"); ok {
		if in.toAddr, ok = parseTarget(a); !ok {
			return include{}, false
		}
		if to, ok = parseRange(ports); !ok {
			return include{}, false
		}
	} else if t, ok := parseRange(target); ok {
		to = t
	} else if in.toAddr, ok = parseTarget(target); !ok {
		return include{}, false
	}
	if to.Last-to.First != r.Last-r.First {
		return include{}, false
	}
	in.to = to.First
	return in, true
}

// parseRange parses FIRST[-LAST], FIRST <= LAST, both read by parsePort.
func parseRange(s string) (PortRange, bool) {
	first, rest, ok := parsePort(s)
	if !ok {
		return PortRange{}, false
	}
	last := first
	if rest != "" {
		if rest[0] != '-' {
			return PortRange{}, false
		}
		if last, rest, ok = parsePort(rest[1:]); !ok || rest != "" || last < first {
			return PortRange{}, false
		}
	}
	return PortRange{first, last}, true
}

// parsePort reads a port number at the start of s as passt does, with
// strtoul(3) in base 10: leading blanks, an optional sign (a negative
// number wraps around, as in C), at least one digit, no overflow, and a
// value up to 65535 (0 included: the rule checks refuse it). It returns
// what follows the digits.
func parsePort(s string) (port uint16, rest string, ok bool) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, "", false // ERANGE
		}
		n = n*10 + d
	}
	if i == start {
		return 0, "", false
	}
	if neg {
		n = -n
	}
	if n > 65535 {
		return 0, "", false
	}
	return uint16(n), s[i:], true
}
