// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import "net/netip"

// Verdict of an egress check.
type Verdict uint8

// Verdicts.
const (
	VerdictAllow Verdict = iota // no deny rule matched, and Allow is empty or an allow rule matched
	VerdictDeny                 // a deny rule matched, or Allow is not empty and no allow rule matched
)

// Check is the reference model of the egress policy, linear in the number
// of rules: the hot path uses egress.Table, and tests compare the two. It
// returns the verdict and the rule that decided (nil when no rule did:
// allowed by an empty Allow, or denied by a non-empty one). Deny wins over
// Allow; IPv4-mapped IPv6 destinations are matched as IPv4.
func (e *Egress) Check(proto Proto, dst netip.Addr, port uint16) (Verdict, *Rule) {
	dst = dst.Unmap()
	match := func(r *Rule) bool {
		return r.Proto&proto != 0 && r.Prefix.Contains(dst) && (proto == ProtoICMP && len(r.Ports) == 0 || proto != ProtoICMP && r.MatchesPort(port))
	}
	for i := range e.Deny {
		if match(&e.Deny[i]) {
			return VerdictDeny, &e.Deny[i]
		}
	}
	if len(e.Allow) == 0 {
		return VerdictAllow, nil
	}
	for i := range e.Allow {
		if match(&e.Allow[i]) {
			return VerdictAllow, &e.Allow[i]
		}
	}
	return VerdictDeny, nil
}
