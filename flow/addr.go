// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "net/netip"

// AddrBytes returns a as the fixed array flow keys and flow entries hold,
// so that they stay pointer-free (netip.Addr holds a pointer): an IPv4
// address in the first four bytes, the rest zero; an IPv6 address whole.
func AddrBytes(a netip.Addr) (b [16]byte) {
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b
	}
	return a.As16()
}

// BytesAddr is the inverse of AddrBytes for an address of the given
// family.
func BytesAddr(b *[16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}
