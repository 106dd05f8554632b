// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"net/netip"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// FuzzHandleFrame runs arbitrary frames through parse and dispatch with
// every built-in responder on: no panic, and every frame is counted
// exactly once: dropped, held for reassembly (a fragment), or answered.
func FuzzHandleFrame(f *testing.F) {
	f.Add(l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4))
	f.Add(l2test.UDP4(netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
		netip.AddrPortFrom(netip.MustParseAddr("255.255.255.255"), 67),
		dhcpDiscover(l2test.GuestMAC, 7, true), l2test.WithDstMAC(l2.BroadcastMAC)))
	f.Add(l2test.RouterSolicit(guestLL6))
	f.Add(l2test.NeighborSolicit(guestLL6, ourLL6))
	f.Add(l2test.UDP6(netip.AddrPortFrom(guestLL6, 546), netip.AddrPortFrom(netip.MustParseAddr("ff02::1:2"), 547), dhcpv6Solicit(l2test.GuestMAC)))
	f.Add(l2test.Echo4(guestAddr4, someAddr4, 1, 1, []byte("ping")))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _ := newDirect(t)
		e.begin(0)
		before := e.st
		e.handleFrame(b, 0, 0)
		st := e.st
		answered := 0
		for i := range st.Service {
			answered += int(st.Service[i] - before.Service[i])
		}
		dropped := int(st.Dropped - before.Dropped)
		held := int(st.FragsHeld - before.FragsHeld)
		if dropped+answered+held != 1 {
			t.Fatalf("frame counted %d times dropped, %d times held, %d times answered", dropped, held, answered)
		}
		e.out = e.out[:0]
	})
}
