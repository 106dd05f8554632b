// SPDX-License-Identifier: GPL-2.0-or-later

// Package dhcpv6 is a stateful DHCPv6 server for a single address: it
// answers the guest's DHCPv6 messages with n.V6.Addr and the resolver and
// search list of guest.Net. It is the counterpart of passt's dhcpv6.c.
//
// # Theory of operation
//
// Handler is the flow.Handler of DHCPv6: the engine hands it every UDP
// datagram the guest sends over IPv6 to port 547 (the frame class
// flow.FrameDHCPv6; no fds). HandleTap drops a datagram whose UDP
// checksum is wrong (flow.BadChecksum), then hands Reply the UDP payload
// and one of its flow.ReplySlots. (passt answers only messages sent to a
// multicast address; gopasst answers unicast ones too.) Reply writes the
// answer there; the handler sends it with l2.BuildUDP6 (checksum
// included) from our link-local address, port 547, to the sender's
// address, port 546, and returns flow.Accept; a message that needs no
// answer is flow.NotForUs. Stats counts replies. The package does no I/O
// of its own, keeps no state between calls, and allocates nothing. There is one address and it never expires, so there is
// no binding table: every answer follows from the request and guest.Net.
//
// Message is a view over the header (msg-type, transaction-id; RFC 8415
// §8), Options an iterator over options (§21.1), and IANA and IAAddress
// views over the data of IA_NA (§21.4) and IAADDR (§21.6). A request is
// validated in one bounded walk, nested IA_NA options included.
//
// Our server identifier is a DUID-LL (§11.4) built from n.OurMAC:
// 00 03 00 01 and the MAC. (passt uses a DUID-LLT, whose time field would
// need a clock.) What is answered, with the validation of §16:
//
//   - SOLICIT (client id, no server id) → ADVERTISE with Preference 255
//     (§18.2.1: the client need not wait for more), or REPLY carrying
//     Rapid Commit when the client sent Rapid Commit (§18.3.1, §21.14).
//   - REQUEST, RENEW (client id, our server id) and REBIND (client id, no
//     server id) → REPLY.
//   - CONFIRM (client id, no server id) → REPLY with status Success, or
//     NotOnLink when an address lies outside the guest's prefix (§18.3.3).
//     A CONFIRM without any address gets no reply.
//   - RELEASE, DECLINE (client id, our server id) → REPLY with status
//     Success (§18.3.7, §18.3.8); there is nothing to free.
//   - INFORMATION-REQUEST (no IA, server id absent or ours) → REPLY
//     without IA (§18.3.6).
//
// Each reply echoes the transaction-id and the client identifier and
// carries our server identifier, which busybox udhcpc6 and dhclient -6
// both require. Each IA_NA the client sent (at most 4) is answered in order,
// echoing its IAID: the first with T1 = T2 = infinity and one IAADDR,
// n.V6.Addr, with infinite preferred and valid lifetimes, as passt does;
// the others with status NoAddrsAvail inside the IA. In a REQUEST, an IA
// naming an address outside the guest's prefix gets status NotOnLink
// (§18.3.2); in RENEW and REBIND, addresses other than ours come back with
// zero lifetimes (§18.3.4, §18.3.5). Replies to SOLICIT, REQUEST, RENEW,
// REBIND and INFORMATION-REQUEST also carry, when set and when they fit:
//
//	23 DNS recursive name servers  n.V6.DNS (IPv6 ones, at most 16; RFC 3646)
//	24 domain search list          n.Search, wire format, uncompressed (§10;
//	                               names encoded by proto/dnsname)
//	39 client FQDN                 n.FQDN, flags 0 (no DNS updates; RFC 4704)
//
// Dropped (Reply returns ok=false; the caller counts): messages shorter
// than 4 bytes, options running past the message, a client or server
// identifier longer than 130 bytes or shorter than 2, a repeated client or
// server identifier, an IA_NA shorter than 12 bytes or with malformed
// options, an IAADDR shorter than 24 bytes, messages failing the §16 checks
// above, server and relay messages (ADVERTISE, REPLY, RECONFIGURE,
// RELAY-FORW, RELAY-REPL), and everything when n.NoDHCPv6 is set or IPv6 is
// off.
//
// # Limits
//
// Replies are at most MaxReplySize (1232) bytes, so they never need
// fragmentation. The identifiers, status codes and IAs always fit; options
// 23, 24 and 39 are each left out whole when they do not. IA_TA and IA_PD
// are not answered (no temporary addresses, no prefix delegation); the
// Option Request Option is not consulted, since 23, 24 and 39 are all we
// have. Authentication and Reconfigure are not supported.
package dhcpv6
