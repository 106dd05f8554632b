// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import "net/netip"

// Allowed reports whether the guest may open a flow to dst: a destination
// in any Deny prefix is refused; otherwise it is allowed if Allow is empty
// or dst is in one of its prefixes. IPv4-mapped IPv6 destinations are
// matched as IPv4. No allocation; linear in the number of prefixes.
func (e *Egress) Allowed(dst netip.Addr) bool {
	if e == nil {
		return true
	}
	dst = dst.Unmap()
	for _, p := range e.Deny {
		if p.Contains(dst) {
			return false
		}
	}
	if len(e.Allow) == 0 {
		return true
	}
	for _, p := range e.Allow {
		if p.Contains(dst) {
			return true
		}
	}
	return false
}
