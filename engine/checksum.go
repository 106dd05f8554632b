// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"net/netip"

	"gopasst/proto/l2"
)

// udpChecksumValid reports whether the UDP checksum of a parsed, unfragmented
// UDP frame is correct; an IPv4 checksum of zero means none and is valid.
func udpChecksumValid(f *l2.Frame) bool {
	seg := f.L4Bytes()
	if f.EtherType == l2.EtherTypeIPv4 && l2.UDP(seg).Checksum() == 0 {
		return true
	}
	return l2.Fold(l2.Checksum(seg, l2.PseudoHeaderSum(f.Src, f.Dst, l2.ProtoUDP, len(seg)))) == 0
}

// setUDPChecksum (re)computes the checksum of the UDP datagram seg sent
// from src to dst. A computed zero is sent as 0xffff (RFC 768).
func setUDPChecksum(seg []byte, src, dst netip.Addr) {
	u := l2.UDP(seg)
	u.SetChecksum(0)
	c := l2.Fold(l2.Checksum(seg, l2.PseudoHeaderSum(src, dst, l2.ProtoUDP, len(seg))))
	if c == 0 {
		c = 0xffff
	}
	u.SetChecksum(c)
}
