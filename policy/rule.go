// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Proto is a set of transport protocols an egress rule or a limit applies
// to.
type Proto uint8

// Protocols. ProtoICMP covers ICMP and ICMPv6 echo.
const (
	ProtoTCP Proto = 1 << iota
	ProtoUDP
	ProtoICMP
	ProtoAny = ProtoTCP | ProtoUDP | ProtoICMP
)

var protoNames = []struct {
	name string
	p    Proto
}{{"tcp", ProtoTCP}, {"udp", ProtoUDP}, {"icmp", ProtoICMP}, {"any", ProtoAny}}

// String returns "tcp", "udp", "icmp", "any", or names joined with '|'.
func (p Proto) String() string {
	for _, n := range protoNames {
		if n.p == p {
			return n.name
		}
	}
	var parts []string
	for _, n := range protoNames[:3] {
		if p&n.p != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Rule is one egress rule: flows of a protocol in Proto to an address in
// Prefix and, for TCP and UDP, a port in Ports (empty: any port). A rule
// with ports never matches ICMP, which has none.
type Rule struct {
	Text   string       // the spec as written (a preset gives several rules one Text)
	Prefix netip.Prefix // masked; IPv4 prefixes are never IPv4-mapped IPv6
	Proto  Proto        // never 0
	Ports  []PortRange  // sorted as written; empty: every port
}

// MatchesPort reports whether port is in r.Ports (always for no ports).
func (r *Rule) MatchesPort(port uint16) bool {
	if len(r.Ports) == 0 {
		return true
	}
	for _, pr := range r.Ports {
		if pr.Contains(port) {
			return true
		}
	}
	return false
}

// MaxRuleLen bounds the text of one rule.
const MaxRuleLen = 200

// ParseRule parses one egress rule in the grammar shared by --egress-allow,
// --egress-deny and the TOML [egress] lists:
//
//	[PROTO:]TARGET[:PORTS]
//
// PROTO is tcp, udp, icmp or any (the default). TARGET is an address
// (a host prefix), a prefix ADDR/LEN, an IPv6 one in brackets when PORTS
// follow ("[fd00::/8]:53"), or preset:NAME (see Presets). PORTS is a
// comma-separated list of ports and ranges P-Q; a rule with ports applies
// to TCP and UDP only, so "icmp:" with ports is an error. A prefix with
// host bits set is an error (a typo should not widen or narrow a rule
// silently). It returns one rule per prefix: several for a preset.
func ParseRule(s string) ([]Rule, error) {
	if s == "" {
		return nil, errors.New("empty rule")
	}
	if len(s) > MaxRuleLen {
		return nil, fmt.Errorf("rule %.20q...: longer than %d bytes", s, MaxRuleLen)
	}
	rest := s
	proto := ProtoAny
	if p, r, ok := strings.Cut(rest, ":"); ok && !strings.HasPrefix(rest, "[") {
		for _, n := range protoNames {
			if p == n.name {
				proto, rest = n.p, r
			}
		}
	}
	var target, ports string
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, fmt.Errorf("rule %q: missing ']'", s)
		}
		target = rest[1:end]
		after := rest[end+1:]
		if after != "" {
			if !strings.HasPrefix(after, ":") {
				return nil, fmt.Errorf("rule %q: expected ':' after ']'", s)
			}
			ports = after[1:]
			if ports == "" {
				return nil, fmt.Errorf("rule %q: empty port list", s)
			}
		}
	case strings.HasPrefix(rest, "preset:"):
		name, p, hasPorts := strings.Cut(strings.TrimPrefix(rest, "preset:"), ":")
		target, ports = "preset:"+name, p
		if hasPorts && p == "" {
			return nil, fmt.Errorf("rule %q: empty port list", s)
		}
	default:
		target = rest
		switch strings.Count(rest, ":") {
		case 0:
		case 1: // IPv4 (or a name) and ports
			i := strings.IndexByte(rest, ':')
			target, ports = rest[:i], rest[i+1:]
			if ports == "" {
				return nil, fmt.Errorf("rule %q: empty port list", s)
			}
		default: // IPv6, without ports unless in brackets
			if _, err := parsePrefix(rest); err != nil {
				i := strings.LastIndexByte(rest, ':')
				if _, err2 := parsePrefix(rest[:i]); err2 == nil {
					return nil, fmt.Errorf("rule %q: put an IPv6 prefix in brackets before ports: %q", s, "["+rest[:i]+"]:"+rest[i+1:])
				}
				return nil, fmt.Errorf("rule %q: %w", s, err)
			}
		}
	}
	var prefixes []netip.Prefix
	if name, ok := strings.CutPrefix(target, "preset:"); ok {
		ps, found := Presets[name]
		if !found {
			return nil, fmt.Errorf("rule %q: unknown preset %q (known: %s)", s, name, presetNames())
		}
		prefixes = ps.Prefixes
	} else {
		p, err := parsePrefix(target)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", s, err)
		}
		prefixes = []netip.Prefix{p}
	}
	var pr []PortRange
	if ports != "" {
		var err error
		if pr, err = parsePortList(ports); err != nil {
			return nil, fmt.Errorf("rule %q: %w", s, err)
		}
		if proto == ProtoICMP {
			return nil, fmt.Errorf("rule %q: icmp has no ports", s)
		}
		proto &^= ProtoICMP
	}
	out := make([]Rule, 0, len(prefixes))
	for _, p := range prefixes {
		out = append(out, Rule{Text: s, Prefix: p, Proto: proto, Ports: pr})
	}
	return out, nil
}

// parsePrefix parses ADDR or ADDR/LEN into a prefix with no host bits set.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("invalid address %q", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid prefix %q", s)
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("invalid prefix %q", s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("prefix %q has host bits set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

// decimalPort parses a port 1-65535 written with digits only: egress
// rules are stricter than the strtoul syntax of -t (parsePort).
func decimalPort(s string) (uint16, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("bad port")
	}
	p, rest, ok := parsePort(s)
	if !ok || rest != "" || p == 0 {
		return 0, errors.New("port out of range 1-65535")
	}
	return p, nil
}

// parsePortList parses "P[-Q][,P[-Q]]...".
func parsePortList(s string) ([]PortRange, error) {
	var out []PortRange
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		first, err := decimalPort(a)
		if err != nil {
			return nil, fmt.Errorf("invalid port %q", a)
		}
		last := first
		if isRange {
			if last, err = decimalPort(b); err != nil {
				return nil, fmt.Errorf("invalid port %q", b)
			}
			if last < first {
				return nil, fmt.Errorf("invalid port range %q", part)
			}
		}
		out = append(out, PortRange{first, last})
	}
	return out, nil
}
