// SPDX-License-Identifier: GPL-2.0-or-later

package l2

// UDPChecksumValid reports whether the UDP checksum of a parsed,
// unfragmented UDP frame is correct. Over IPv4 a checksum of zero means
// none (RFC 768) and is valid; over IPv6 it is mandatory (RFC 8200 §8.1).
// The link services (DHCP, DHCPv6) drop datagrams that fail it.
func (f *Frame) UDPChecksumValid() bool {
	seg := f.L4Bytes()
	if f.EtherType == EtherTypeIPv4 && UDP(seg).Checksum() == 0 {
		return true
	}
	return Fold(Checksum(seg, PseudoHeaderSum(f.Src, f.Dst, ProtoUDP, len(seg)))) == 0
}
