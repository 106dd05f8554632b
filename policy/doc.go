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
// parser. Nothing here looks at the host; guest.Resolve turns a Config
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
// ParseForward parses one forwarding spec and accumulates it onto the
// previous ones, as repeated options do in passt. The rules are kept in
// order for Listeners (the sockets to open) and for Specs (to print them
// back), and compiled into a 64 Ki-entry table from port to rule, so that
// Lookup is one array index on the hot path, like passt's
// fwd_ports{map, delta}. "all" and a spec made only of excludes cover every
// port outside Forward.Ephemeral, as passt's fwd_port_is_ephemeral():
// DefaultEphemeral, Linux's default ip_local_port_range (32768-60999),
// unless SetEphemeral changes it (passt reads the host's range; nothing
// here reads it yet).
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
// different addresses, the first rule wins (Listeners keeps both). One
// Forward holds at most MaxPortRules rules.
package policy
