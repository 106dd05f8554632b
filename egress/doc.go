// SPDX-License-Identifier: GPL-2.0-or-later

// Package egress enforces one guest's flow policy: the egress rules
// ([egress] in the TOML file, --egress-allow and --egress-deny), the
// per-protocol flow limits ([limits], --max-flows and --flow-rate), the
// counters for the stats line, and the flow audit log (package audit).
//
// # Theory of operation
//
// The rules are compiled once into a Table: a binary trie per address
// family, each rule hung on the node where its prefix ends. Lookup walks
// the destination's bits from the root and checks only the rules on the
// path, so it costs at most 32 (IPv4) or 128 (IPv6) steps whatever the
// number of rules, and allocates nothing. Deny wins over allow: a matching
// deny rule anywhere on the path decides. With no allow rules everything
// not denied is allowed; with some, a flow must match one. A rule with
// ports applies to TCP and UDP only. policy.Egress.Check is the linear
// reference model the tests compare the table with.
//
// Handlers hold a *Gate and call Gate.Open at every place a flow starts,
// with the real destination (after the gateway and DNS mappings: a DNS
// query the guest sends to the advertised resolver is checked against the
// resolver it is forwarded to), and Gate.Close where it ends, with the
// payload bytes each way. Open checks the rules, then the limits
// (concurrent flows per protocol, and new flows per second as a token
// bucket of one second's burst), counts, and logs. Inbound flows (a host
// client of a -t/-u forward) are not egress: Open logs them and always
// allows them, and the limits do not count them.
//
// What a refused guest sees, by protocol (the handlers' part):
//
//   - TCP from the tap: a RST for its SYN at once, so connect() fails
//     with ECONNREFUSED within microseconds. An ICMP "administratively
//     prohibited" would also do on Linux (EHOSTUNREACH), but many stacks
//     treat ICMP errors for a connecting socket as soft (RFC 1122 4.2.3.9)
//     and keep retrying SYNs for a minute or more: RST is the one answer
//     every stack takes as final.
//   - TCP over the splice path (pasta -T): the namespace socket was
//     already accepted by the kernel, so it is closed with SO_LINGER 0,
//     a RST: the client reads ECONNRESET at once.
//   - UDP (DNS forwarding included) and ICMP echo: ICMP destination
//     unreachable, code 13 "communication administratively prohibited"
//     (RFC 1812 5.2.7.1), or ICMPv6 destination unreachable code 1
//     (RFC 4443 3.1), quoting the offending datagram; a connected socket
//     gets EHOSTUNREACH (IPv4) or EACCES (IPv6), and ping prints
//     "Packet filtered" or "Administratively prohibited".
//
// # Limits
//
// Rules are checked when a flow opens; changing them needs a restart. The
// gate is not safe for concurrent use: like the handlers, it belongs to
// the event-loop goroutine.
package egress
