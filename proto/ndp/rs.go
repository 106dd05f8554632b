// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"encoding/binary"
	"net/netip"

	"gopasst/guest"
	"gopasst/proto/dnsname"
	"gopasst/proto/l2"
)

// routerSolicit validates a router solicitation (RFC 4861 §6.1.1; hop
// limit, code and checksum are already checked) and writes the
// advertisement. It returns 0 when there is none.
func routerSolicit(n *guest.Net, src netip.Addr, msg, out []byte) (int, netip.Addr) {
	rs := l2.NDPRouterSolicit(msg)
	if n.NoRA || !rs.IsValid() {
		return 0, netip.Addr{}
	}
	hasSLLA, ok := optionsOK(rs.Options())
	if !ok || (src.IsUnspecified() && hasSLLA) {
		return 0, netip.Addr{}
	}
	dst := src
	if src.IsUnspecified() {
		dst = AllNodes // RFC 4861 §6.2.6
	}
	return buildRA(n, out), dst
}

// buildRA writes a router advertisement without checksum into out and
// returns its length, 0 if the fixed part, prefix and source link-layer
// option do not fit. Optional options that do not fit are left out.
func buildRA(n *guest.Net, out []byte) int {
	const fixed = l2.NDPRouterAdvertSize + l2.NDPOptionPrefixSize + l2.NDPOptionLLASize
	if len(out) < fixed {
		return 0
	}
	var flags uint8
	if !n.NoDHCPv6 {
		flags |= l2.NDPRAFlagManaged
	}
	l2.NDPRouterAdvert(out).Encode(HopLimit, flags, RouterLifetime, 0, 0)
	m := l2.NDPRouterAdvertSize
	prefix := netip.PrefixFrom(n.V6.Addr, PrefixBits)
	m += l2.PutNDPOptionPrefix(out[m:], prefix, l2.NDPPrefixFlagOnLink|l2.NDPPrefixFlagAutonomous, Infinity, Infinity)
	m += l2.PutNDPOptionLLA(out[m:], l2.NDPOptionSourceLLA, n.OurMAC)

	if n.MTU >= MinMTU && len(out)-m >= l2.NDPOptionMTUSize {
		m += l2.PutNDPOptionMTU(out[m:], uint32(n.MTU))
	}
	m += putRDNSS(out[m:], n.V6.DNS)
	m += putDNSSL(out[m:], n.Search)
	return m
}

// putRDNSS writes an RDNSS option (RFC 8106 §5.1) with the IPv6 addresses
// in dns that fit in b, and returns its size; 0 if there is none.
func putRDNSS(b []byte, dns []netip.Addr) int {
	room := min((len(b)-8)/16, maxRDNSS)
	if room <= 0 {
		return 0
	}
	cnt := 0
	for _, a := range dns {
		if cnt == room {
			break
		}
		if !a.Is6() || a.Is4In6() || a.IsUnspecified() {
			continue
		}
		v := a.As16()
		copy(b[8+16*cnt:], v[:])
		cnt++
	}
	if cnt == 0 {
		return 0
	}
	size := 8 + 16*cnt
	b[0], b[1], b[2], b[3] = l2.NDPOptionRDNSS, uint8(size/8), 0, 0
	binary.BigEndian.PutUint32(b[4:], Infinity)
	return size
}

// putDNSSL writes a DNSSL option (RFC 8106 §5.2) with the names in search
// that can be encoded and fit in b, and returns its size; 0 if there is
// none.
func putDNSSL(b []byte, search []string) int {
	limit := min(len(b), 255*8)
	if limit < 16 {
		return 0
	}
	m := 8
	for _, name := range search {
		// Keep room for the padding of the last name: the option
		// length is a multiple of 8 that must fit in limit.
		w := dnsname.Put(b[m:limit&^7], name)
		if w == 0 {
			continue
		}
		m += w
	}
	if m == 8 {
		return 0
	}
	size := (m + 7) &^ 7
	clear(b[m:size])
	b[0], b[1], b[2], b[3] = l2.NDPOptionDNSSL, uint8(size/8), 0, 0
	binary.BigEndian.PutUint32(b[4:], Infinity)
	return size
}
