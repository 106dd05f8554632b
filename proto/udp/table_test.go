// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"math/rand/v2"
	"testing"
)

// TestTableModel compares the table with a map under random adds and
// removes, checking every key after each step.
func TestTableModel(t *testing.T) {
	const capacity = 64
	r := rand.New(rand.NewPCG(1, 2))
	tb := newTable(capacity, nil)
	model := map[flowKey]bool{}
	randKey := func() flowKey {
		// A small key space, so that adds hit existing keys and
		// probe runs collide.
		k := flowKey{v6: r.IntN(2) == 0, ns: r.IntN(4) == 0, aPort: uint16(r.IntN(8)), bPort: uint16(r.IntN(4))}
		k.a[0] = byte(r.IntN(4))
		return k
	}
	for step := range 20000 {
		k := randKey()
		idx, hash := tb.lookup(&k)
		if (idx >= 0) != model[k] {
			t.Fatalf("step %d: lookup %+v = %d, model %v", step, k, idx, model[k])
		}
		switch {
		case idx < 0 && !tb.full():
			tb.add(&udpFlow{key: k}, hash)
			model[k] = true
		case idx >= 0:
			tb.remove(idx)
			delete(model, k)
		}
		if tb.count != len(model) {
			t.Fatalf("step %d: count %d, model %d", step, tb.count, len(model))
		}
		for i := range tb.count {
			f := &tb.flows[i]
			if j, _ := tb.lookup(&f.key); j != i {
				t.Fatalf("step %d: flow %d found at %d", step, i, j)
			}
		}
		if err := tb.idx.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
}
