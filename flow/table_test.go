// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// tflow is a flow of the test table: its key and a payload that must move
// with it.
type tflow struct {
	key, val uint32
}

func tlookup(t *Table[tflow], key uint32) (int, uint64) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], key)
	h := t.Hash(b[:])
	p := t.Probe(h)
	for i := p.Next(); i >= 0; i = p.Next() {
		if t.At(i).key == key {
			return i, h
		}
	}
	return -1, h
}

// TestTableModel drives a table with random adds and removes and compares
// it with a map after every step: every live flow is found at its
// position with its payload, and the budget is held once per flow.
func TestTableModel(t *testing.T) {
	for _, tc := range []struct{ capacity, budget int }{{1, 0}, {2, 0}, {7, 0}, {64, 0}, {64, 10}} {
		rng := rand.New(rand.NewPCG(1, uint64(tc.capacity)))
		var b *Budget
		if tc.budget > 0 {
			b = NewBudget(tc.budget)
		}
		tb := NewTable[tflow](tc.capacity, b)
		model := map[uint32]uint32{}
		for step := range 20000 {
			k := uint32(rng.IntN(16)) // a small key space: hits and shared probe runs
			i, h := tlookup(&tb, k)
			if _, ok := model[k]; (i >= 0) != ok {
				t.Fatalf("%+v step %d: lookup(%d) = %d, model %v", tc, step, k, i, ok)
			}
			switch {
			case i < 0:
				full := tb.Full()
				j := tb.Add(&tflow{key: k, val: uint32(step)}, h)
				if (j < 0) != full {
					t.Fatalf("%+v step %d: Add = %d with Full %v", tc, step, j, full)
				}
				if j >= 0 {
					model[k] = uint32(step)
				}
			case rng.IntN(2) == 0:
				last := tb.Len() - 1
				lastKey := tb.At(last).key
				moved := tb.Remove(i)
				if want := last; i == last {
					if moved != -1 {
						t.Fatalf("%+v step %d: removing the last moved %d", tc, step, moved)
					}
				} else if moved != want || tb.At(i).key != lastKey {
					t.Fatalf("%+v step %d: Remove(%d) moved %d (key %d), want %d (key %d)",
						tc, step, i, moved, tb.At(i).key, want, lastKey)
				}
				delete(model, k)
			}
			if tb.Len() != len(model) || b.Used() != len(model)*min(tc.budget, 1) {
				t.Fatalf("%+v step %d: Len %d, budget used %d, model %d", tc, step, tb.Len(), b.Used(), len(model))
			}
			for i := range tb.Len() {
				f := tb.At(i)
				if j, _ := tlookup(&tb, f.key); j != i || f.val != model[f.key] {
					t.Fatalf("%+v step %d: flow %d (%+v) found at %d, model %d", tc, step, i, *f, j, model[f.key])
				}
			}
			if tb.Len() < tb.Cap() && *tb.At(tb.Len()) != (tflow{}) {
				t.Fatalf("%+v step %d: a freed position keeps %+v", tc, step, *tb.At(tb.Len()))
			}
			if err := tb.Check(); err != nil {
				t.Fatalf("%+v step %d: %v", tc, step, err)
			}
		}
	}
}

func TestTableAllocs(t *testing.T) {
	tb := NewTable[tflow](8, NewBudget(8))
	if a := testing.AllocsPerRun(100, func() {
		_, h := tlookup(&tb, 7)
		i := tb.Add(&tflow{key: 7}, h)
		tb.Remove(i)
	}); a != 0 {
		t.Errorf("%v allocations per add/remove, want 0", a)
	}
}
