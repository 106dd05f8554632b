// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "net/netip"

// Codes of "administratively prohibited" destination unreachable errors.
const (
	// ICMPv4CodeAdminProhibited: "communication administratively
	// prohibited" (RFC 1812 5.2.7.1), for packets a filter refuses.
	ICMPv4CodeAdminProhibited = 13
	// ICMPv6CodeAdminProhibited: "communication with destination
	// administratively prohibited" (RFC 4443 3.1).
	ICMPv6CodeAdminProhibited = 1
)

// Quote limits for ICMP errors: the whole error stays within the minimum
// datagram every host accepts.
const (
	icmpErrMax4 = 576  // RFC 1812 4.3.2.3: the error's IP datagram
	icmpErrMax6 = 1280 // RFC 4443 2.4 (c): the IPv6 minimum MTU
)

// BuildAdminProhibited writes into b an Ethernet frame carrying an ICMP
// destination unreachable, code 13, or for IPv6 an ICMPv6 destination
// unreachable, code 1: "administratively prohibited", from from (the
// destination the guest tried) to the sender of the offending packet pkt
// (the packet from its IP header on; the family is its version). The
// error quotes pkt as RFC 792 and RFC 4443 say: at least the IP header
// and the first 8 bytes of its payload, and as much more as fits in 576
// bytes (IPv4, RFC 1812 4.3.2.3) or 1280 bytes (IPv6, RFC 4443 2.4 (c)).
// It returns the frame length, or 0 if pkt is not a whole IP header plus
// 8 bytes, families differ, or b is too short. No allocation.
func BuildAdminProhibited(b []byte, l *Link, from netip.Addr, pkt []byte) int {
	if len(pkt) < 1 {
		return 0
	}
	var dst netip.Addr
	var m ICMPMessage
	m.Link = *l
	ipl, limit, hdr := IPv4MinSize, icmpErrMax4, 0
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < IPv4MinSize {
			return 0
		}
		hdr = IPv4(pkt).HeaderLength()
		dst = IPv4(pkt).SourceAddress()
		m.Type, m.Code = ICMPv4DstUnreachable, ICMPv4CodeAdminProhibited
	case 6:
		if len(pkt) < IPv6MinSize {
			return 0
		}
		ipl, limit, hdr = IPv6MinSize, icmpErrMax6, IPv6MinSize
		dst = IPv6(pkt).SourceAddress()
		m.Type, m.Code = ICMPv6DstUnreachable, ICMPv6CodeAdminProhibited
	default:
		return 0
	}
	if hdr < IPv4MinSize || len(pkt) < hdr+8 || from.Is4() != dst.Is4() {
		return 0
	}
	q := min(len(pkt), limit-ipl-8)
	l4 := EthernetSize + ipl
	if len(b) < l4+8+q {
		return 0
	}
	// Build the body in place: 4 unused bytes, then the quote.
	copy(b[l4+8:], pkt[:q])
	clear(b[l4+4 : l4+8])
	m.Src, m.Dst = from, dst
	m.Body = b[l4+4 : l4+8+q]
	return buildICMP(b, &m, ipl == IPv6MinSize)
}
