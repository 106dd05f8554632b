// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"net/netip"

	"gopasst/guest"
	"gopasst/proto/l2"
)

// Specification and implementation constants.
const (
	// HopLimit is the only hop limit NDP messages may carry, and the one
	// replies must be sent with (RFC 4861 §6.1, §7.1).
	HopLimit = 255
	// RouterLifetime is the advertised router lifetime in seconds (RFC 8319
	// maximum; as passt).
	RouterLifetime = 65535
	// Infinity is the "forever" lifetime of prefixes and DNS options.
	Infinity = 0xffffffff
	// PrefixBits is the length of the advertised prefix (SLAAC).
	PrefixBits = 64
	// MinMTU is the smallest MTU an IPv6 link may have (RFC 8200 §5).
	MinMTU = 1280

	// MaxMessageSize bounds the longest advertisement we build: the fixed
	// part, prefix, source link-layer address, MTU, an RDNSS option with
	// 127 addresses and a full DNSSL option.
	MaxMessageSize = l2.NDPRouterAdvertSize + l2.NDPOptionPrefixSize + l2.NDPOptionLLASize +
		l2.NDPOptionMTUSize + 255*8 + 255*8

	// naSize is a neighbor advertisement with its target link-layer option.
	naSize = l2.NDPNeighborAdvertSize + l2.NDPOptionLLASize
	// maxRDNSS is how many addresses fit in the 8-bit option length.
	maxRDNSS = (255*8 - 8) / 16
)

// AllNodes is ff02::1, the destination of unsolicited advertisements.
var AllNodes = netip.AddrFrom16([16]byte{0xff, 0x02, 15: 1})

// Handle answers the NDP message msg (starting at the ICMPv6 header) that
// src sent to dst with IPv6 hop limit hopLimit. When an answer is due it
// writes the reply ICMPv6 message (checksum computed for source n.OurLL6
// and destination replyDst) into out and returns its length m, replyDst and
// true. Handler sends it with hop limit HopLimit. See the package
// comment for what is answered. Mirrors ndp() in passt ndp.c.
func Handle(n *guest.Net, hopLimit uint8, src, dst netip.Addr, msg []byte, out []byte) (m int, replyDst netip.Addr, ok bool) {
	if n.NoNDP || !n.HasV6() || !n.OurLL6.Is6() || n.OurLL6.Is4In6() || !src.Is6() || !dst.Is6() {
		return 0, netip.Addr{}, false
	}
	if hopLimit != HopLimit || len(msg) < l2.ICMPv6MinSize || msg[1] != 0 {
		return 0, netip.Addr{}, false
	}
	if t := msg[0]; t != l2.ICMPv6RouterSolicit && t != l2.ICMPv6NeighborSolicit {
		return 0, netip.Addr{}, false // not for us: skip the checksum
	}
	if !checksumOK(src, dst, msg) {
		return 0, netip.Addr{}, false
	}
	switch msg[0] {
	case l2.ICMPv6RouterSolicit:
		m, replyDst = routerSolicit(n, src, msg, out)
	case l2.ICMPv6NeighborSolicit:
		m, replyDst = neighborSolicit(n, src, dst, msg, out)
	default:
		return 0, netip.Addr{}, false
	}
	if m == 0 {
		return 0, netip.Addr{}, false
	}
	setChecksum(n.OurLL6, replyDst, out[:m])
	return m, replyDst, true
}

// RouterAdvertisement writes an unsolicited router advertisement, checksum
// computed for source n.OurLL6 and destination AllNodes, into out and
// returns its length; 0 when router advertisements are off (n.NoRA,
// n.NoNDP, no IPv6) or out is shorter than the fixed part and prefix.
func RouterAdvertisement(n *guest.Net, out []byte) int {
	if n.NoNDP || n.NoRA || !n.HasV6() || !n.OurLL6.Is6() || n.OurLL6.Is4In6() {
		return 0
	}
	m := buildRA(n, out)
	if m > 0 {
		setChecksum(n.OurLL6, AllNodes, out[:m])
	}
	return m
}

// checksumOK verifies the ICMPv6 checksum of msg sent from src to dst.
func checksumOK(src, dst netip.Addr, msg []byte) bool {
	s := l2.PseudoHeaderSum(src, dst, l2.ProtoICMPv6, len(msg))
	return l2.Fold(l2.Checksum(msg, s)) == 0
}

// setChecksum fills in the checksum of msg, to be sent from src to dst.
func setChecksum(src, dst netip.Addr, msg []byte) {
	l2.ICMPv6(msg).SetChecksum(0)
	s := l2.PseudoHeaderSum(src, dst, l2.ProtoICMPv6, len(msg))
	l2.ICMPv6(msg).SetChecksum(l2.Fold(l2.Checksum(msg, s)))
}

// optionsOK validates an options area (RFC 4861 §6.1.1, §7.1.1: every
// option has a non-zero length that fits) and reports whether it holds a
// source link-layer address option.
func optionsOK(o l2.NDPOptions) (hasSLLA, ok bool) {
	it := o.Iter()
	for {
		t, _, more := it.Next()
		if !more {
			return hasSLLA, !it.Invalid()
		}
		if t == l2.NDPOptionSourceLLA {
			hasSLLA = true
		}
	}
}

// isSolicitedNode reports whether a is a solicited-node multicast address,
// ff02::1:ffXX:XXXX (RFC 4291 §2.7.1).
func isSolicitedNode(a netip.Addr) bool {
	b := a.As16()
	return b[0] == 0xff && b[1] == 0x02 && b[2]|b[3]|b[4]|b[5]|b[6]|b[7]|b[8]|b[9]|b[10] == 0 &&
		b[11] == 1 && b[12] == 0xff
}
