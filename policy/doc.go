// SPDX-License-Identifier: GPL-2.0-or-later

// Package policy holds gopasst's typed configuration: what the command line
// and the TOML file say, port-forwarding rules, and our egress policy.
//
// # Where configuration lives
//
// conf → policy → guest. Package conf is the argv parser, Load here the
// TOML loader; both produce one Config, which is why the type and the
// rules live here rather than beside either front end: the parser, the
// loader, the sandbox and the handlers share it without depending on the
// parser. Nothing here looks at the host but ReadEphemeral (the host's
// ephemeral port range, which conf and Load give NewForward, as passt's
// fwd_probe_ephemeral() before it parses -t); guest.Resolve turns a Config
// into the run-time view the guest sees (guest.Net), and the address
// mapping built from that view is fwd's (fwd.HostDestination). This split
// was kept, rather than moving Config beside the parser in conf, because
// it needs no package moves and both inputs already meet here.
//
// # Theory of operation
//
// Config is filled by the command-line parser (package conf) and by Load,
// which decodes a TOML file strictly: keys are the long option names with
// '_' for '-', an unknown key or a bad value is an error naming the key and
// its line. Addresses decode from strings into net/netip types; forwarding
// rules are strings in the -t/-u/-T/-U grammar (tcp_ports, udp_ports,
// tcp_ns_ports, udp_ns_ports).
//
// ParseForward parses one forwarding spec and adds its rules to the
// previous ones, as repeated options do in passt 2026 (fwd_rule.c): the
// grammar, the meaning (excludes cut the ranges of their own spec; a spec
// without ranges covers every port outside the host's ephemeral range,
// best effort) and the refusals (overlapping rules, a target address
// without a listening address of its family, port 0, a listening address
// for -T/-U) are upstream's, checked line by line against its binary by
// testdata/forward_specs.txt and forward_specs.sh. The rules are kept in
// order for Listeners (the sockets to open) and RuleStrings (printed as
// passt prints them), and compiled into a 64 Ki-entry table from port to
// rule, so that Lookup is one array index on the hot path, like passt's
// fwd_ports{map, delta}.
//
// Our own additions: the egress rules (Egress, parsed by ParseRule from
// the [egress] lists and --egress-allow/--egress-deny, in the grammar
// [PROTO:]TARGET[:PORTS] with named Presets), the per-protocol flow
// Limits ([limits], --max-flows, --flow-rate) and the audit log path.
// Deny wins over Allow; an empty Allow allows everything. Egress.Check is
// the plain, linear statement of those semantics; package egress compiles
// the rules into a trie for the handlers and is tested against it.
//
// # Limits
//
// Lookup ignores bind addresses: with two rules for the same port on
// different addresses (127.0.0.1/80 and [::1]/80), the first rule wins
// (Listeners keeps both). One Forward holds at most MaxPortRules rules.
package policy
