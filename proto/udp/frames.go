// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"gopasst/flow"
	"gopasst/proto/l2"
)

// frame writes the Ethernet, IP and UDP headers (with checksums) of a
// datagram to the guest in front of the plen-byte payload at buf[off:],
// and returns the frame. off must leave room for the headers (hdr4 or
// hdr6 bytes).
func (h *Handler) frame(buf []byte, off int, v6 bool, src *[16]byte, sport uint16, dst *[16]byte, dport uint16, plen int) []byte {
	hdr, et := hdr4, uint16(l2.EtherTypeIPv4)
	if v6 {
		hdr, et = hdr6, l2.EtherTypeIPv6
	}
	b := buf[off-hdr : off+plen]
	l2.Ethernet(b).Encode([6]byte(h.n.GuestMAC), [6]byte(h.n.OurMAC), et)
	srcA, dstA := flow.BytesAddr(src, v6), flow.BytesAddr(dst, v6)
	ul := l2.UDPSize + plen
	if v6 {
		l2.IPv6(b[l2.EthernetSize:]).Encode(&l2.IPv6Fields{
			PayloadLength: uint16(ul), NextHeader: l2.ProtoUDP, HopLimit: l2.DefaultTTL,
			SrcAddr: srcA, DstAddr: dstA,
		})
	} else {
		// DF unless the packet is larger than the link's MTU: the
		// engine fragments those (package frag).
		var flags uint8 = l2.IPv4FlagDontFragment
		if h.n.MTU > 0 && l2.IPv4MinSize+ul > h.n.MTU {
			flags = 0
		}
		ip := l2.IPv4(b[l2.EthernetSize:])
		ip.Encode(&l2.IPv4Fields{
			TotalLength: uint16(l2.IPv4MinSize + ul), Flags: flags,
			TTL: l2.DefaultTTL, Protocol: l2.ProtoUDP, SrcAddr: srcA, DstAddr: dstA,
		})
		ip.SetChecksum(ip.CalculateChecksum())
	}
	u := l2.UDP(b[hdr-l2.UDPSize:])
	u.Encode(&l2.UDPFields{SrcPort: sport, DstPort: dport, Length: uint16(ul)})
	u.SetChecksum(u.CalculateChecksum(l2.PseudoHeaderSum(srcA, dstA, l2.ProtoUDP, ul)))
	return b
}
