// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "math/bits"

// Grow makes room for capacity positions, keeping every position in use,
// its hash and whether it is linked (an unlinked position waiting for
// Compact stays unlinked). It does nothing if capacity is not larger than
// Cap. It allocates: a handler grows its table when it is full, doubling,
// so the cost is amortised over the flows that filled it and an idle
// handler stays small.
func (x *Index) Grow(capacity int) {
	if capacity <= len(x.hashes) {
		return
	}
	x.resize(capacity)
}

// Shrink is Grow's converse: it makes the index hold capacity positions,
// keeping every position in use, when capacity is smaller than Cap and
// at least Len; else it does nothing. It allocates: a handler shrinks
// its table when most of it has been empty for a while, so that the
// memory of a burst of flows can go back to the system.
func (x *Index) Shrink(capacity int) {
	if capacity >= len(x.hashes) || capacity < x.n || capacity < 1 {
		return
	}
	x.resize(capacity)
}

// resize rebuilds the index for capacity (at least Len) positions.
func (x *Index) resize(capacity int) {
	hashes := make([]uint64, capacity)
	copy(hashes, x.hashes[:x.n])
	size := 1 << bits.Len(uint(2*capacity-1))
	slots := make([]int32, size)
	mask := uint64(size - 1)
	for _, v := range x.slots {
		if v == 0 {
			continue
		}
		s := hashes[v-1] & mask
		for slots[s] != 0 {
			s = (s + 1) & mask
		}
		slots[s] = v
	}
	x.slots, x.hashes, x.mask = slots, hashes, mask
}
