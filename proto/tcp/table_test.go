// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net/netip"
	"testing"

	"gopasst/flow"
)

// TestTableGrows: the table starts at initialCapacity, doubles when full
// and stops at its maximum or at the shared budget, whichever is smaller;
// every connection added stays found at its index, also after closes and
// compaction across a growth.
func TestTableGrows(t *testing.T) {
	tests := []struct {
		name        string
		max, budget int
		want        int // connections added before add fails
	}{
		{"to its maximum", 1000, 0, 1000},
		{"to the budget", maxCapacity, 1500, 1500},
		{"power of two", 4 * initialCapacity, 0, 4 * initialCapacity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := newTable(tc.max)
			if tc.budget > 0 {
				tab.budget = flow.NewBudget(tc.budget)
			}
			if len(tab.conns) != initialCapacity {
				t.Fatalf("starts at %d, want %d", len(tab.conns), initialCapacity)
			}
			local := netip.MustParseAddrPort("10.0.2.15:40000")
			key := func(i int) netip.AddrPort {
				return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), 80)
			}
			n, k, closed := 0, 0, false
			for ; n < tc.want+1; n, k = n+1, k+1 {
				idx := tab.add(local, key(k))
				if idx < 0 {
					break
				}
				if idx != n {
					t.Fatalf("connection %d at %d", n, idx)
				}
				tab.conns[idx].ev = evEstablished
				if n == initialCapacity/2 && !closed { // close one before a growth
					closed = true
					tab.unhash(3)
					tab.compact(3)
					tab.live--
					tab.budget.Give()
					n--
					tab.conns[3].ev = evEstablished
				}
			}
			if n != tc.want {
				t.Fatalf("%d connections added, want %d (table %d)", n, tc.want, len(tab.conns))
			}
			if err := tab.idx.Check(); err != nil {
				t.Fatal(err)
			}
			for i := range tab.n {
				c := &tab.conns[i]
				if got := tab.lookup(c.local, c.peer); got != i {
					t.Fatalf("connection at %d found at %d", i, got)
				}
			}
		})
	}
}

// TestTableShrinks: after a burst, the table halves while at most an
// eighth of it is in use, down to initialCapacity, and every connection
// left is found at its index.
func TestTableShrinks(t *testing.T) {
	tab := newTable(maxCapacity)
	local := netip.MustParseAddrPort("10.0.2.15:40000")
	key := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), 80)
	}
	const burst = 10000
	for i := range burst {
		if tab.add(local, key(i)) != i {
			t.Fatalf("connection %d", i)
		}
	}
	if len(tab.conns) != 16384 || tab.shrink() {
		t.Fatalf("table %d after %d connections, or shrunk while full", len(tab.conns), burst)
	}
	for _, tc := range []struct{ left, want int }{{2049, 16384}, {2048, 8192}, {1500, 8192}, {100, 512}, {3, initialCapacity}, {0, initialCapacity}} {
		for tab.n > tc.left {
			idx := tab.n / 2 // from the middle: the last moves there
			tab.unhash(idx)
			tab.compact(idx)
		}
		tab.shrink()
		if len(tab.conns) != tc.want {
			t.Fatalf("%d left: table %d, want %d", tc.left, len(tab.conns), tc.want)
		}
		if err := tab.idx.Check(); err != nil {
			t.Fatal(err)
		}
		for i := range tab.n {
			c := &tab.conns[i]
			if got := tab.lookup(c.local, c.peer); got != i {
				t.Fatalf("%d left: connection at %d found at %d", tc.left, i, got)
			}
		}
	}
}
