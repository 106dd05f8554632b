// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Checksum adds b to the running RFC 1071 one's-complement sum initial and
// returns the new sum, not folded and not inverted. Sums compose:
// Checksum(b2, Checksum(b1, 0)) is the sum of b1 followed by b2 as long as
// len(b1) is even. The result is congruent modulo 0xffff to the naive sum of
// big-endian 16-bit words; pass it to Fold to get the header field.
//
// Large buffers are summed 32 bytes per iteration as 64-bit words with
// carry; this is where TCP and UDP payloads spend their time.
func Checksum(b []byte, initial uint32) uint32 {
	var s uint64 = uint64(initial)
	var c uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[0:8]), 0)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[8:16]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[16:24]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[24:32]), c)
		s += c // cannot overflow: s <= 2^64-2 after a carry
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[0:8]), 0)
		s += c
		b = b[8:]
	}
	if len(b) >= 4 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint32(b)), 0)
		s += c
		b = b[4:]
	}
	if len(b) >= 2 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint16(b)), 0)
		s += c
		b = b[2:]
	}
	if len(b) == 1 {
		s, c = bits.Add64(s, uint64(b[0])<<8, 0)
		s += c
	}
	// Fold 64 → 32 bits with end-around carry.
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	return uint32(s)
}

// fold16 folds a 32-bit one's-complement sum to 16 bits without inverting.
func fold16(sum uint32) uint16 {
	sum = (sum >> 16) + (sum & 0xffff)
	sum = (sum >> 16) + (sum & 0xffff)
	return uint16(sum)
}

// Fold folds a running sum to 16 bits and inverts it: the value for a
// checksum field. A received header is intact when Fold of the sum over it,
// checksum field included, is 0.
func Fold(sum uint32) uint16 { return ^fold16(sum) }

// PseudoHeaderSum returns the unfolded sum of the TCP/UDP/ICMPv6
// pseudo-header (RFC 9293 section 3.1, RFC 8200 section 8.1) for an upper
// layer of length bytes. src and dst must both be IPv4 or both IPv6.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var s uint32
	if src.Is4() {
		a, d := src.As4(), dst.As4()
		s = Checksum(a[:], 0)
		s = Checksum(d[:], s)
	} else {
		a, d := src.As16(), dst.As16()
		s = Checksum(a[:], 0)
		s = Checksum(d[:], s)
	}
	// The address sum may be close to 2^32: add protocol and length (IPv6
	// uses a 32-bit length, both halves) in 64 bits and carry back in.
	t := uint64(s) + uint64(proto) + uint64(length>>16&0xffff) + uint64(length&0xffff)
	t = (t >> 32) + (t & 0xffffffff)
	return uint32(t)
}

// ChecksumUpdate returns the checksum field oldCsum updated for a 16-bit word
// of the covered data changing from oldVal to newVal, per RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m'). The result equals a recomputation except that it
// may give 0x0000 where recomputation gives 0xffff (both are one's-complement
// zero; only an all-zero datagram sums to zero).
func ChecksumUpdate(oldCsum, oldVal, newVal uint16) uint16 {
	s := uint32(^oldCsum) + uint32(^oldVal) + uint32(newVal)
	return ^fold16(s)
}

// ChecksumUpdate32 is ChecksumUpdate for a 32-bit field (a sequence number,
// an IPv4 address) aligned on a 16-bit boundary.
func ChecksumUpdate32(oldCsum uint16, oldVal, newVal uint32) uint16 {
	s := uint32(^oldCsum) +
		uint32(^uint16(oldVal>>16)) + uint32(^uint16(oldVal)) +
		(newVal >> 16) + (newVal & 0xffff)
	return ^fold16(s)
}
