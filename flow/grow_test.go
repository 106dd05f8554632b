// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"math/rand/v2"
	"testing"
)

// TestIndexGrow fills an index, unlinks some positions, grows it, and
// checks that every linked position is found by its hash, the unlinked
// ones are not, the invariants hold, and the new room can be used.
func TestIndexGrow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := NewIndex(8)
	var hs []uint64
	for !x.Full() {
		h := r.Uint64() & 0xff // collisions on purpose
		hs = append(hs, h)
		x.Insert(h)
	}
	x.Unlink(3)
	x.Unlink(5)
	for _, c := range []int{8, 16, 1000} {
		x.Grow(c)
		if x.Cap() != c || x.Len() != len(hs) {
			t.Fatalf("after Grow(%d): Cap %d Len %d", c, x.Cap(), x.Len())
		}
		if err := x.Check(3, 5); err != nil {
			t.Fatalf("after Grow(%d): %v", c, err)
		}
	}
	for i, h := range hs {
		found := false
		p := x.Probe(h)
		for j := p.Next(); j >= 0; j = p.Next() {
			found = found || j == i
		}
		if found != (i != 3 && i != 5) {
			t.Fatalf("position %d found %v", i, found)
		}
	}
	for x.Compact(5); !x.Full(); {
		x.Insert(r.Uint64())
	}
	x.Remove(3)
	if err := x.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestIndexShrink: Shrink keeps every position in use, linked or not, and
// refuses a capacity below Len or not below Cap.
func TestIndexShrink(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := NewIndex(1000)
	var hs []uint64
	for range 10 {
		h := r.Uint64() & 0xff
		hs = append(hs, h)
		x.Insert(h)
	}
	x.Unlink(4)
	for _, tc := range []struct{ c, want int }{{2000, 1000}, {9, 1000}, {16, 16}, {10, 10}, {12, 10}} {
		x.Shrink(tc.c)
		if x.Cap() != tc.want || x.Len() != len(hs) {
			t.Fatalf("Shrink(%d): Cap %d Len %d, want Cap %d", tc.c, x.Cap(), x.Len(), tc.want)
		}
		if err := x.Check(4); err != nil {
			t.Fatalf("after Shrink(%d): %v", tc.c, err)
		}
		for i, h := range hs {
			found := false
			p := x.Probe(h)
			for j := p.Next(); j >= 0; j = p.Next() {
				found = found || j == i
			}
			if found != (i != 4) {
				t.Fatalf("after Shrink(%d): position %d found %v", tc.c, i, found)
			}
		}
	}
}
