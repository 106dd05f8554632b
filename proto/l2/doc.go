// SPDX-License-Identifier: GPL-2.0-or-later

// Package l2 reads and writes the frames exchanged with the guest:
// Ethernet, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6 and NDP headers as
// views over byte slices, Internet checksums, a one-pass frame parser and
// builders that write into buffers the caller owns.
//
// # Theory of operation
//
// Every header is a named []byte type (IPv4, TCP, ...) whose methods read
// and write the bytes in place, after gVisor's pkg/tcpip/header. Nothing is
// copied or decoded up front; a view costs a slice header.
//
// Frames from the guest are untrusted. The event loop calls Frame.Parse
// once per frame: it skips up to MaxVLANTags VLAN tags, checks the network
// header (IPv4 IHL and total length, IPv6 payload length and at most
// MaxIPv6ExtHeaders extension headers), then the transport header (TCP
// data offset, UDP length, ICMP size), and records each layer's offset. A
// malformed frame yields one of the pre-declared sentinel errors (Errors),
// which the caller counts per reason and drops; Parse never panics and
// never allocates. After a nil error the views the Frame returns (TCP(),
// UDP(), ...) are in bounds for every accessor: that is the contract the
// protocol handlers rely on. This mirrors the packet_get() bounds checks
// in passt's packet.c and the header checks in tap4_handler() and
// tap6_handler() of tap.c.
//
// Views used on their own follow the same rule: fixed-offset accessors are
// safe once IsValid returned true; Options and Payload accessors clamp to
// the slice and are always safe. IsValid, Frame.Parse, IPv6.UpperLayer,
// ParseTCPOptions and NDPOptionIterator never panic on any input.
//
// Checksums are RFC 1071 one's-complement sums. Checksum returns an
// unfolded 32-bit running sum so sums compose (pseudo-header, header,
// payload); Fold turns it into the field value. The loop adds 64-bit words
// with carry, 32 bytes per iteration. ChecksumUpdate applies RFC 1624
// incremental updates for patched fields.
//
// Builders (BuildTCP4, BuildUDP6, ...) write whole frames, Ethernet header
// first, into a caller-owned buffer and return the length, or 0 if it does
// not fit; they never append or allocate. TCPTemplate prebuilds a
// connection's Ethernet, IP and TCP headers once so that each outgoing
// segment only patches sequence, acknowledgment, flags, window, lengths and
// checksums, as passt's tcp_buf.c templates do; the payload can be read
// from the socket straight into place behind the template.
//
// Nothing in this package is safe for concurrent use on the same buffer;
// it keeps no global state, so separate buffers need no locking.
//
// # Limits
//
// IPv4 options are skipped, not interpreted. IPv4 and IPv6 fragments are
// flagged (Frame.IsFragment) and their transport header is not checked;
// reassembly is not done. IPv6 jumbograms are not supported. Only Ethernet
// hardware and IPv4 protocol addresses are accepted in ARP.
package l2
