// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"net/netip"

	"gopasst/proto/l2"
)

// pseudoHeaderSum is the unfolded sum of the UDP pseudo-header (RFC 768,
// RFC 8200 §8.1), summed as 16-bit words in 64 bits so no carry is lost.
// It stands in for l2.PseudoHeaderSum, which adds proto and length to a
// 32-bit sum without end-around carry and so is off by one for
// 255.255.255.255 (every DHCP DISCOVER); reported to proto/l2.
func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var s uint64
	if src.Is4() {
		a, d := src.As4(), dst.As4()
		s = sum16(a[:]) + sum16(d[:])
	} else {
		a, d := src.As16(), dst.As16()
		s = sum16(a[:]) + sum16(d[:])
	}
	s += uint64(proto) + uint64(length>>16&0xffff) + uint64(length&0xffff)
	return uint32(s) // at most 16 words of 0xffff plus 3 more: < 2^21
}

func sum16(b []byte) uint64 {
	var s uint64
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	return s
}

// udpChecksumValid reports whether the UDP checksum of a parsed, unfragmented
// UDP frame is correct; an IPv4 checksum of zero means none and is valid.
func udpChecksumValid(f *l2.Frame) bool {
	seg := f.L4Bytes()
	if f.EtherType == l2.EtherTypeIPv4 && l2.UDP(seg).Checksum() == 0 {
		return true
	}
	return l2.Fold(l2.Checksum(seg, pseudoHeaderSum(f.Src, f.Dst, l2.ProtoUDP, len(seg)))) == 0
}

// setUDPChecksum (re)computes the checksum of the UDP datagram seg sent
// from src to dst. A computed zero is sent as 0xffff (RFC 768).
func setUDPChecksum(seg []byte, src, dst netip.Addr) {
	u := l2.UDP(seg)
	u.SetChecksum(0)
	c := l2.Fold(l2.Checksum(seg, pseudoHeaderSum(src, dst, l2.ProtoUDP, len(seg))))
	if c == 0 {
		c = 0xffff
	}
	u.SetChecksum(c)
}
