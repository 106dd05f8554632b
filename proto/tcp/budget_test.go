// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net/netip"
	"testing"

	"gopasst/flow"
	"gopasst/proto/l2"
)

// TestSharedBudget: a connection also needs a unit of the flow budget the
// engine's handlers share; when it is spent the guest's SYN is refused
// with a RST and counted as a full table, and closing a connection gives
// its unit back.
func TestSharedBudget(t *testing.T) {
	e := newEnv(t, 16)
	b := flow.NewBudget(1)
	e.h.tab.budget = b
	_, port := hostListener(t, "127.0.0.1")
	remote := netip.AddrPortFrom(gw4, port)

	g := e.connect(netip.AddrPortFrom(guest4, 41001), remote)
	if b.Used() != 1 {
		t.Fatalf("budget used %d after one connection, want 1", b.Used())
	}
	g2 := &gconn{e: e, local: netip.AddrPortFrom(guest4, 41002), remote: remote, seq: 9, wnd: 0xffff}
	g2.send(l2.TCPFlagSyn, nil)
	e.waitSeg("RST for the SYN beyond the budget", func(s seg) bool {
		return s.flags&l2.TCPFlagRst != 0 && s.dst.Port() == 41002
	})
	if e.h.counts.TableFull != 1 {
		t.Fatalf("TableFull = %d, want 1", e.h.counts.TableFull)
	}

	g.send(l2.TCPFlagRst, nil)
	e.poll(0)
	e.h.endWakeup(0)
	if b.Used() != 0 || e.h.Len() != 0 {
		t.Fatalf("after the reset: budget used %d, Len %d; want 0, 0", b.Used(), e.h.Len())
	}
}
