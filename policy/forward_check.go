// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"fmt"
	"net/netip"
)

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// check refuses a rule that passt 2026's fwd_rule_add() refuses: port 0 on
// either side, a multicast or broadcast target, a target address without
// a listening address of its family, and a rule overlapping one of
// existing (see ParseForward).
func (f *Forward) check(r *PortRule, existing []PortRule) error {
	fail := func(why string) error {
		return fmt.Errorf("cannot add rule %s: %s", f.ruleString(r), why)
	}
	if r.First == 0 {
		return fail("attempts to map from port 0")
	}
	if r.ToFirst == 0 {
		return fail("attempts to map to port 0")
	}
	if t := r.ToAddr; t.IsValid() {
		switch {
		case t.IsMulticast() || t == broadcast4:
			return fail(fmt.Sprintf("multicast target address %s", t))
		case !r.Bind.IsValid() && t.Is4():
			return fail(fmt.Sprintf("dual stack forward to IPv4 address %s unsupported (did you mean 0.0.0.0/... instead?)", t))
		case !r.Bind.IsValid():
			return fail(fmt.Sprintf("dual stack forward to IPv6 address %s unsupported (did you mean [::]/... instead?)", t))
		case r.Bind.Is4() && !t.Is4():
			return fail(fmt.Sprintf("forward from IPv4 (%s) to IPv6 (%s) unsupported", r.Bind, t))
		case !r.Bind.Is4() && t.Is4():
			return fail(fmt.Sprintf("forward from IPv6 (%s) to IPv4 (%s) unsupported", r.Bind, t))
		}
	}
	for i := range existing {
		o := &existing[i]
		if r.First <= o.Last && o.First <= r.Last && bindOverlap(r.Bind, o.Bind) {
			return fmt.Errorf("forwarding configuration %w: %s versus %s",
				ErrForwardConflict, f.ruleString(r), f.ruleString(o))
		}
	}
	return nil
}

// bindOverlap reports whether sockets bound to a and b (invalid = any
// address of any family) would compete for the same port.
func bindOverlap(a, b netip.Addr) bool {
	switch {
	case !a.IsValid() || !b.IsValid():
		return true
	case a.Is4() != b.Is4():
		return false
	}
	return a == b || a.IsUnspecified() || b.IsUnspecified()
}
