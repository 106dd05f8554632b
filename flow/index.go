// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
)

// Index is the hash index of a handler's flow table: it maps the 64-bit
// hash of a flow's key to the flow's position in a dense array of fixed
// capacity that the handler owns. It is open addressing with linear
// probing, at most half full, seeded per Index (hash/maphash) so that a
// guest cannot aim for collisions. Removal uses backward-shift deletion
// (Knuth 6.4 Algorithm R), so there are no tombstones, and the dense
// array is compacted by moving the last entry into the hole, as passt
// compacts its flow table.
//
// The Index knows hashes and positions only; the handler keeps its flows
// and compares their keys: Probe yields the positions whose hash matches,
// and the handler checks each candidate's key. Every operation is
// allocation-free. Like everything in flow, an Index belongs to the
// event-loop goroutine.
type Index struct {
	slots  []int32  // position + 1; 0 is empty. len is a power of two >= 2*cap
	hashes []uint64 // hash of the entry at each position, [0, n) used
	n      int      // positions in use, linked or not
	mask   uint64
	seed   maphash.Seed
}

// NewIndex returns an empty index for up to capacity (>= 1) positions.
func NewIndex(capacity int) Index {
	if capacity < 1 {
		capacity = 1
	}
	size := 1 << bits.Len(uint(2*capacity-1))
	return Index{
		slots:  make([]int32, size),
		hashes: make([]uint64, capacity),
		mask:   uint64(size - 1),
		seed:   maphash.MakeSeed(),
	}
}

// Hash returns the seeded hash of a flow key's bytes.
func (x *Index) Hash(key []byte) uint64 { return maphash.Bytes(x.seed, key) }

// Len returns the number of positions in use: [0, Len) of the dense array.
func (x *Index) Len() int { return x.n }

// Cap returns the capacity the index was made for.
func (x *Index) Cap() int { return len(x.hashes) }

// Full reports whether Insert would fail.
func (x *Index) Full() bool { return x.n == len(x.hashes) }

// EntryHash returns the hash stored for position i.
func (x *Index) EntryHash(i int) uint64 { return x.hashes[i] }

// Insert takes the next position for an entry of hash h, links it and
// returns it; -1 if the index is full. The caller fills its own dense
// array at that position.
func (x *Index) Insert(h uint64) int {
	if x.n == len(x.hashes) {
		return -1
	}
	i := x.n
	x.n++
	x.hashes[i] = h
	s := h & x.mask
	for x.slots[s] != 0 {
		s = (s + 1) & x.mask
	}
	x.slots[s] = int32(i + 1)
	return i
}

// Probe is an iteration over the positions whose hash equals a given one,
// in probe order. It lives on the caller's stack.
type Probe struct {
	x *Index
	h uint64
	s uint64 // next slot to look at
}

// Probe starts a lookup of hash h:
//
//	p := x.Probe(h)
//	for i := p.Next(); i >= 0; i = p.Next() {
//		if flows[i].key == key {
//			return i
//		}
//	}
//	return -1
func (x *Index) Probe(h uint64) Probe { return Probe{x: x, h: h, s: h & x.mask} }

// Next returns the next position whose hash matches, or -1 when the probe
// run ends. The index is at most half full, so every run ends.
func (p *Probe) Next() int {
	x := p.x
	for {
		v := x.slots[p.s]
		if v == 0 {
			return -1
		}
		p.s = (p.s + 1) & x.mask
		if x.hashes[v-1] == p.h {
			return int(v - 1)
		}
	}
}

// slotOf returns the slot that links position i, or -1 if i is not
// linked.
func (x *Index) slotOf(i int) int {
	want := int32(i + 1)
	for s := x.hashes[i] & x.mask; ; s = (s + 1) & x.mask {
		switch x.slots[s] {
		case want:
			return int(s)
		case 0:
			return -1
		}
	}
}

// Unlink removes position i from the hash, so that Probe no longer finds
// it, but keeps the position in use until Compact fills it. Unlinking a
// position that is not linked does nothing.
func (x *Index) Unlink(i int) {
	s := x.slotOf(i)
	if s < 0 {
		return
	}
	x.unslot(uint64(s))
}

// unslot empties slot i with backward-shift deletion: later entries of
// the probe run move back so that lookups never stop early.
func (x *Index) unslot(i uint64) {
	x.slots[i] = 0
	for j := (i + 1) & x.mask; x.slots[j] != 0; j = (j + 1) & x.mask {
		home := x.hashes[x.slots[j]-1] & x.mask
		// The entry at j may stay if its home lies cyclically in (i, j].
		if i <= j {
			if i < home && home <= j {
				continue
			}
		} else if i < home || home <= j {
			continue
		}
		x.slots[i] = x.slots[j]
		x.slots[j] = 0
		i = j
	}
}

// Compact fills position i, which the caller has unlinked, with the last
// position in use and releases the last. It returns the old position of
// the entry that moved to i, or -1 if i was the last; the caller moves its
// own entry from there to i likewise.
func (x *Index) Compact(i int) (moved int) {
	last := x.n - 1
	moved = -1
	if i != last {
		if s := x.slotOf(last); s >= 0 {
			x.slots[s] = int32(i + 1)
		}
		x.hashes[i] = x.hashes[last]
		moved = last
	}
	x.hashes[last] = 0
	x.n--
	return moved
}

// Remove unlinks position i and compacts it at once: Unlink then Compact.
func (x *Index) Remove(i int) (moved int) {
	x.Unlink(i)
	return x.Compact(i)
}

// Check verifies the index's invariants: every position in use is linked
// exactly once and found by a probe of its hash, and nothing else is
// linked. unlinked lists positions the caller has unlinked but not yet
// compacted. It is meant for tests.
func (x *Index) Check(unlinked ...int) error {
	skip := func(i int) bool {
		for _, u := range unlinked {
			if u == i {
				return true
			}
		}
		return false
	}
	used := 0
	for _, v := range x.slots {
		if v == 0 {
			continue
		}
		used++
		if int(v-1) >= x.n {
			return fmt.Errorf("slot links position %d beyond %d in use", v-1, x.n)
		}
		if skip(int(v - 1)) {
			return fmt.Errorf("unlinked position %d still linked", v-1)
		}
	}
	want := 0
	for i := range x.n {
		if skip(i) {
			continue
		}
		want++
		found := false
		p := x.Probe(x.hashes[i])
		for j := p.Next(); j >= 0; j = p.Next() {
			if j == i {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("position %d not found by its hash", i)
		}
	}
	if used != want {
		return fmt.Errorf("%d slots used for %d linked positions", used, want)
	}
	if used > len(x.slots)/2 {
		return errors.New("index more than half full")
	}
	return nil
}
