// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"math/rand/v2"
	"testing"
)

// lookup finds key in keys through the index, as a handler does.
func lookup(x *Index, keys []uint32, key uint32, h uint64) int {
	p := x.Probe(h)
	for i := p.Next(); i >= 0; i = p.Next() {
		if keys[i] == key {
			return i
		}
	}
	return -1
}

func TestNewIndexSize(t *testing.T) {
	for _, tc := range []struct{ capacity, slots int }{
		{0, 2}, {1, 2}, {2, 4}, {3, 8}, {4, 8}, {5, 16}, {64, 128}, {65, 256},
	} {
		t.Run("", func(t *testing.T) {
			x := NewIndex(tc.capacity)
			if len(x.slots) != tc.slots || x.mask != uint64(tc.slots-1) {
				t.Errorf("NewIndex(%d): %d slots, mask %#x; want %d", tc.capacity, len(x.slots), x.mask, tc.slots)
			}
			if want := max(tc.capacity, 1); x.Cap() != want {
				t.Errorf("Cap = %d, want %d", x.Cap(), want)
			}
		})
	}
}

func TestIndexOps(t *testing.T) {
	// All entries share one hash, so that every operation works on one
	// probe run, and an entry whose home is elsewhere sits inside it.
	for _, tc := range []struct {
		name   string
		remove int
		moved  int
	}{
		{"first", 0, 2},
		{"middle", 1, 2},
		{"last", 2, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := NewIndex(4)
			keys := []uint32{10, 11, 12, 0}
			for i := range 3 {
				if got := x.Insert(5); got != i {
					t.Fatalf("Insert = %d, want %d", got, i)
				}
			}
			if got := x.Insert(6); got != 3 {
				t.Fatalf("Insert = %d, want 3", got)
			}
			keys[3] = 13
			if got := x.Insert(5); got != -1 || !x.Full() {
				t.Fatalf("Insert into full index = %d, Full %v", got, x.Full())
			}
			if err := x.Check(); err != nil {
				t.Fatal(err)
			}
			// Make the entry hashed 6 the last, as in the table: move
			// it out of the way by removing it and inserting again.
			if moved := x.Remove(3); moved != -1 {
				t.Fatalf("Remove(last) moved %d", moved)
			}
			keys = keys[:3]
			if moved := x.Remove(tc.remove); moved != tc.moved {
				t.Fatalf("Remove(%d) moved %d, want %d", tc.remove, moved, tc.moved)
			}
			if moved := tc.moved; moved >= 0 {
				keys[tc.remove] = keys[moved]
			}
			keys = keys[:2]
			if x.Len() != 2 {
				t.Fatalf("Len = %d, want 2", x.Len())
			}
			if err := x.Check(); err != nil {
				t.Fatal(err)
			}
			for i, k := range keys {
				if got := lookup(&x, keys, k, 5); got != i {
					t.Errorf("lookup(%d) = %d, want %d", k, got, i)
				}
			}
			if got := lookup(&x, keys, 10+uint32(tc.remove), 5); got != -1 {
				t.Errorf("removed key found at %d", got)
			}
		})
	}
}

func TestIndexUnlinkThenCompact(t *testing.T) {
	x := NewIndex(8)
	for i := range 5 {
		x.Insert(uint64(i % 2))
	}
	x.Unlink(1)
	x.Unlink(3)
	x.Unlink(3) // not linked: nothing
	if err := x.Check(1, 3); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 5 {
		t.Fatalf("Len = %d after Unlink, want 5", x.Len())
	}
	// Highest first, as the TCP handler compacts.
	if moved := x.Compact(3); moved != 4 {
		t.Fatalf("Compact(3) moved %d, want 4", moved)
	}
	if moved := x.Compact(1); moved != 3 {
		t.Fatalf("Compact(1) moved %d, want 3", moved)
	}
	if err := x.Check(); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 0, 0}; x.Len() != 3 || x.hashes[0] != want[0] || x.hashes[1] != want[1] || x.hashes[2] != want[2] {
		t.Fatalf("hashes %v, want %v", x.hashes[:x.Len()], want)
	}
}

// TestIndexModel compares the index with a map under random inserts,
// removes and unlink/compact pairs, checking every key after each step.
func TestIndexModel(t *testing.T) {
	for _, capacity := range []int{1, 2, 7, 64} {
		t.Run("", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(capacity)))
			x := NewIndex(capacity)
			keys := make([]uint32, capacity)
			model := map[uint32]bool{}
			// A small key space and a coarse hash, so that lookups hit
			// and probe runs collide and wrap.
			hash := func(k uint32) uint64 {
				if k%3 == 0 {
					return uint64(len(x.slots) - 1)
				}
				return x.Hash([]byte{byte(k % 5)})
			}
			for step := range 20000 {
				k := uint32(rng.IntN(3 * capacity))
				h := hash(k)
				idx := lookup(&x, keys, k, h)
				if (idx >= 0) != model[k] {
					t.Fatalf("step %d: lookup(%d) = %d, model %v", step, k, idx, model[k])
				}
				switch {
				case idx < 0 && !x.Full():
					i := x.Insert(h)
					keys[i] = k
					model[k] = true
				case idx >= 0 && rng.IntN(2) == 0:
					if moved := x.Remove(idx); moved >= 0 {
						keys[idx] = keys[moved]
					}
					delete(model, k)
				case idx >= 0:
					x.Unlink(idx)
					if got := lookup(&x, keys, k, h); got != -1 {
						t.Fatalf("step %d: unlinked %d found at %d", step, k, got)
					}
					if moved := x.Compact(idx); moved >= 0 {
						keys[idx] = keys[moved]
					}
					delete(model, k)
				}
				if x.Len() != len(model) {
					t.Fatalf("step %d: Len %d, model %d", step, x.Len(), len(model))
				}
				for i := range x.Len() {
					if x.EntryHash(i) != hash(keys[i]) {
						t.Fatalf("step %d: position %d hash %#x, key %d hashes to %#x", step, i, x.EntryHash(i), keys[i], hash(keys[i]))
					}
					if j := lookup(&x, keys, keys[i], hash(keys[i])); j != i {
						t.Fatalf("step %d: key %d at %d found at %d", step, keys[i], i, j)
					}
				}
				if err := x.Check(); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
		})
	}
}

func TestIndexAllocs(t *testing.T) {
	x := NewIndex(64)
	keys := make([]uint32, 64)
	var kb [4]byte
	n := testing.AllocsPerRun(1000, func() {
		kb[0]++
		h := x.Hash(kb[:])
		i := x.Insert(h)
		keys[i] = uint32(kb[0])
		if lookup(&x, keys, keys[i], h) != i {
			panic("lookup")
		}
		x.Unlink(i)
		x.Compact(i)
		i = x.Insert(h)
		x.Remove(i)
	})
	if n != 0 {
		t.Fatalf("%v allocs per run, want 0", n)
	}
}

func BenchmarkIndexLookup(b *testing.B) {
	x := NewIndex(1024)
	keys := make([]uint32, 1024)
	hashes := make([]uint64, 1024)
	for i := range 1024 {
		var kb [4]byte
		kb[0], kb[1] = byte(i), byte(i>>8)
		hashes[i] = x.Hash(kb[:])
		keys[x.Insert(hashes[i])] = uint32(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i & 1023
		if lookup(&x, keys, uint32(k), hashes[k]) != k {
			b.Fatal("lookup")
		}
	}
}
