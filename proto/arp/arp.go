// SPDX-License-Identifier: GPL-2.0-or-later

package arp

import (
	"gopasst/guest"
	"gopasst/proto/l2"
)

// Reply answers the ARP packet req (starting at the ARP header, after the
// Ethernet header) on behalf of n. When an answer is due it writes the
// 28-byte reply into out and returns true; see the package comment for what
// is answered. Mirrors arp() in passt arp.c.
func Reply(n *guest.Net, req l2.ARP, out l2.ARP) bool {
	if !req.IsValid() || len(out) < l2.ARPSize || req.Op() != l2.ARPRequest || !n.HasV4() {
		return false
	}
	sha, spa, tpa := req.SenderHW(), req.SenderIP(), req.TargetIP()
	if tpa.IsUnspecified() || tpa == n.V4.Addr {
		return false // nobody's address, or the guest's own (incl. its DAD probes)
	}
	if !spa.IsUnspecified() && spa == tpa {
		return false // gratuitous ARP: the guest announcing its address
	}
	out.Encode(l2.ARPReply, n.OurMAC, tpa, sha, spa)
	return true
}
