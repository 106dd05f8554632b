// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Forward is the accumulated result of one kind of -t/-u/-T/-U option: the
// rules every spec given for it produced, in order, plus a compiled
// per-port table for the hot path. Build it with NewForward and
// ParseForward; the zero value forwards nothing.
//
// A Forward is not safe for concurrent mutation; once built, Lookup,
// LookupRule and Listeners may be called concurrently.
type Forward struct {
	// Opt is the option the rules come from: 't', 'u', 'T' or 'U'. It
	// decides the protocol named in messages and what the grammar
	// allows (-T and -U take no listening address).
	Opt byte
	// Mode summarises Rules: none (no rule), explicit ports, all (some
	// rule is best effort) or auto (some rule follows bound ports).
	Mode  ForwardMode
	Rules []PortRule // in the order given, excludes already applied
	// Freebind: the listeners bind with IP(V6)_FREEBIND (--freebind,
	// -t and -u only; set by conf once the whole command line is read).
	Freebind bool

	// Ephemeral is the host's ephemeral port range (inclusive), left out
	// of the ports a spec without ranges ("all", only excludes, "auto")
	// covers. Set by NewForward; it must not change once rules exist.
	Ephemeral PortRange

	// table maps a port to 1 + the index in Rules of the first rule
	// that covers it, 0 meaning "not forwarded": passt's
	// fwd_ports{map,delta} in one array. Built by compile; nil until
	// the first rule.
	table []uint16
}

// PortRule is one forwarding rule, as passt 2026 keeps them (fwd_rule.c):
// a range of ports on a listening address, where they go, and how.
// Excludes ("~FIRST[-LAST]") never appear here: ParseForward cuts them out
// of the ranges of their spec.
type PortRule struct {
	Bind    netip.Addr // listen address, unmapped; invalid = any ("*" or none given)
	Iface   string     // listen interface (%IFNAME); "" = any
	First   uint16     // first port of the range, host side for -t/-u
	Last    uint16     // last port of the range, inclusive
	ToFirst uint16     // target port of First; port p goes to ToFirst+(p-First)
	ToAddr  netip.Addr // target address, unmapped; invalid = the guest's own

	// BestEffort marks a rule from a spec that gave no port range
	// ("all", only excludes, "auto" alone): a port of it that cannot be
	// bound is skipped, it is an error only if none can be. Such rules
	// never cover the ephemeral range.
	BestEffort bool
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
	// BestEffort: from a rule without explicit ports ("all"); failing to
	// bind it is not an error as long as some listener of the Forward
	// binds.
	BestEffort bool
	// Freebind: bind with IP_FREEBIND / IPV6_FREEBIND (--freebind), so
	// that Bind need not be configured on the host yet.
	Freebind bool
}

// DefaultEphemeral is the Linux default of net.ipv4.ip_local_port_range;
// ReadEphemeral returns the host's actual range.
var DefaultEphemeral = PortRange{32768, 60999}

// MaxPortRules bounds the number of rules in one Forward.
const MaxPortRules = 4096

// ReadEphemeral reads the host's ephemeral port range from
// /proc/sys/net/ipv4/ip_local_port_range, as passt's fwd_probe_ephemeral().
// It returns DefaultEphemeral if the file cannot be read or parsed.
func ReadEphemeral() PortRange {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return DefaultEphemeral
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return DefaultEphemeral
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo == 0 || lo > hi {
		return DefaultEphemeral
	}
	return PortRange{uint16(lo), uint16(hi)}
}

// ErrForwardConflict is wrapped by ParseForward's error when a rule
// overlaps an earlier one, or "none" follows rules.
var ErrForwardConflict = errors.New("conflict")

// NewForward returns an empty Forward for option opt ('t', 'u', 'T' or
// 'U') whose port-less specs leave out the ephemeral range eph.
func NewForward(opt byte, eph PortRange) *Forward {
	return &Forward{Opt: opt, Ephemeral: eph}
}

// Proto names the protocol of f's rules as passt prints it: "TCP" or "UDP".
func (f *Forward) Proto() string {
	if f != nil && (f.Opt == 'u' || f.Opt == 'U') {
		return "UDP"
	}
	return "TCP"
}

// compile rebuilds the per-port table and Mode. The first rule covering a
// port wins.
func (f *Forward) compile() {
	if f.table == nil {
		f.table = make([]uint16, 65536)
	} else {
		clear(f.table)
	}
	f.Mode = ForwardNone
	for i := len(f.Rules) - 1; i >= 0; i-- {
		r := &f.Rules[i]
		for p := int(r.First); p <= int(r.Last); p++ {
			f.table[p] = uint16(i + 1)
		}
	}
	for _, r := range f.Rules {
		switch {
		case r.Auto:
			f.Mode = ForwardAuto
		case r.BestEffort && f.Mode != ForwardAuto:
			f.Mode = ForwardAll
		case f.Mode == ForwardNone:
			f.Mode = ForwardSpec
		}
	}
}

// LookupRule returns the rule forwarding port, if any: the first rule
// covering it. Bind addresses are not considered, as in passt's fwd_ports
// table. O(1), no allocation.
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

// Listeners expands the rules into the sockets to open: every port of
// every non-Auto rule, in rule order. Rules never overlap on the same
// address (ParseForward refuses it), so no port is listed twice for one
// address.
func (f *Forward) Listeners() []Listener {
	if f == nil {
		return nil
	}
	var out []Listener
	for _, r := range f.Rules {
		if r.Auto {
			continue
		}
		for p := int(r.First); p <= int(r.Last); p++ {
			out = append(out, Listener{
				Bind: r.Bind, Iface: r.Iface, Port: uint16(p),
				ToPort: r.ToFirst + uint16(p-int(r.First)), ToAddr: r.ToAddr,
				BestEffort: r.BestEffort, Freebind: f.Freebind,
			})
		}
	}
	return out
}

// RuleStrings returns f's rules as passt 2026 prints them under
// "Inbound/Outbound forwarding rules" (fwd_rules_dump()), one string per
// rule with single spaces: "TCP [*]:22-25 => 1022-1025",
// "UDP [127.0.0.1]%lo:53 => 192.0.2.1:53", "TCP [*]:1-32767 => 1-32767
// (best effort) (auto-scan)". -T and -U rules listen on the namespace's
// loopback and show as "[*]%lo".
func (f *Forward) RuleStrings() []string {
	if f == nil {
		return nil
	}
	out := make([]string, 0, len(f.Rules))
	for i := range f.Rules {
		out = append(out, f.ruleString(&f.Rules[i]))
	}
	return out
}

// String returns RuleStrings joined by "; ", or "none", for logs.
func (f *Forward) String() string {
	if f == nil || len(f.Rules) == 0 {
		return "none"
	}
	return strings.Join(f.RuleStrings(), "; ")
}

func (f *Forward) ruleString(r *PortRule) string {
	var b strings.Builder
	b.WriteString(f.Proto())
	b.WriteString(" [")
	if r.Bind.IsValid() {
		b.WriteString(r.Bind.String())
	} else {
		b.WriteString("*")
	}
	b.WriteString("]")
	iface := r.Iface
	if f.Opt == 'T' || f.Opt == 'U' {
		iface = "lo"
	}
	if iface != "" {
		b.WriteString("%" + iface)
	}
	b.WriteString(":" + rangeString(r.First, r.Last) + " => ")
	if r.ToAddr.IsValid() {
		b.WriteString(r.ToAddr.String() + ":")
	}
	b.WriteString(rangeString(r.ToFirst, r.ToFirst+(r.Last-r.First)))
	if r.BestEffort {
		b.WriteString(" (best effort)")
	}
	if r.Auto {
		b.WriteString(" (auto-scan)")
	}
	return b.String()
}

func rangeString(first, last uint16) string {
	if first == last {
		return strconv.Itoa(int(first))
	}
	return strconv.Itoa(int(first)) + "-" + strconv.Itoa(int(last))
}
