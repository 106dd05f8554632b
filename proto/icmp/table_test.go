// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"math/rand/v2"
	"testing"
)

type tkey struct {
	v6     bool
	id     uint16
	remote [16]byte
}

// TestTableModel drives the table with random adds and removes and
// compares it with a map after every step.
func TestTableModel(t *testing.T) {
	for _, capacity := range []int{1, 2, 7, 64} {
		rng := rand.New(rand.NewPCG(1, uint64(capacity)))
		tb := newTable(capacity)
		model := map[tkey]bool{}
		randKey := func() tkey {
			// A small key space, so that lookups hit and probe runs collide.
			var k tkey
			k.v6 = rng.IntN(2) == 1
			k.id = uint16(rng.IntN(4))
			k.remote[15] = byte(rng.IntN(4))
			return k
		}
		for step := 0; step < 20000; step++ {
			k := randKey()
			idx, hash := tb.lookup(k.v6, k.id, &k.remote)
			if (idx >= 0) != model[k] {
				t.Fatalf("cap %d step %d: lookup(%v) = %d, model %v", capacity, step, k, idx, model[k])
			}
			switch {
			case idx < 0 && tb.count < capacity:
				tb.add(&pingFlow{v6: k.v6, guestID: k.id, remote: k.remote}, hash)
				model[k] = true
			case idx >= 0 && rng.IntN(2) == 0:
				tb.remove(idx)
				delete(model, k)
			}
			if tb.count != len(model) {
				t.Fatalf("cap %d step %d: count %d, model %d", capacity, step, tb.count, len(model))
			}
			for i := 0; i < tb.count; i++ {
				f := &tb.flows[i]
				if j, _ := tb.lookup(f.v6, f.guestID, &f.remote); j != i {
					t.Fatalf("cap %d step %d: flow %d found at %d", capacity, step, i, j)
				}
			}
			if tb.idx.Len() != tb.count {
				t.Fatalf("cap %d step %d: index holds %d for %d flows", capacity, step, tb.idx.Len(), tb.count)
			}
			if err := tb.idx.Check(); err != nil {
				t.Fatalf("cap %d step %d: %v", capacity, step, err)
			}
		}
	}
}
