// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"net/netip"

	"gopasst/guest"
	"gopasst/proto/l2"
)

// neighborSolicit validates a neighbor solicitation (RFC 4861 §7.1.1; hop
// limit, code and checksum are already checked) and writes the
// advertisement. It returns 0 when there is none.
func neighborSolicit(n *guest.Net, src, dst netip.Addr, msg, out []byte) (int, netip.Addr) {
	ns := l2.NDPNeighborSolicit(msg)
	if !ns.IsValid() || len(out) < naSize {
		return 0, netip.Addr{}
	}
	target := ns.TargetAddress()
	if target.IsMulticast() || target.IsUnspecified() {
		return 0, netip.Addr{}
	}
	hasSLLA, ok := optionsOK(ns.Options())
	if !ok {
		return 0, netip.Addr{}
	}
	var (
		flags  uint8 = l2.NDPNAFlagRouter | l2.NDPNAFlagOverride
		naDest       = src
	)
	if src.IsUnspecified() {
		// Duplicate address detection (RFC 4862 §5.4.2).
		if !isSolicitedNode(dst) || hasSLLA || target != n.OurLL6 {
			return 0, netip.Addr{}
		}
		naDest = AllNodes // RFC 4861 §7.2.4, S clear
	} else {
		if target == n.V6.Addr || target == n.GuestLL6 || target == src {
			return 0, netip.Addr{} // the guest's own address
		}
		flags |= l2.NDPNAFlagSolicited
	}
	l2.NDPNeighborAdvert(out).Encode(flags, target)
	m := l2.NDPNeighborAdvertSize
	m += l2.PutNDPOptionLLA(out[m:], l2.NDPOptionTargetLLA, n.OurMAC)
	return m, naDest
}
