// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"gopasst/flow"

	"hash/maphash"
	"math/bits"
	"net/netip"
)

// table is the connection table: a dense array of fixed capacity, and an
// open-addressing hash (linear probing, load at most 50%) from the
// connection's addresses to its index. The hash is seeded per process, so a
// guest cannot aim for collisions. Closing a connection moves the last one
// into its slot (see compact); indices are stable within a wake-up.
//
// A table is unsafe for concurrent use.
type table struct {
	conns []conn  // [0:n] live or closed-pending-compaction
	n     int     // slots in use
	live  int     // slots with events != 0
	slots []int32 // hash: index+1, 0 = empty
	mask  uint64
	seed  maphash.Seed
	// budget is the flow capacity shared with the engine's other handlers
	// (one unit per live connection); nil: unlimited.
	budget *flow.Budget
}

func newTable(capacity int) table {
	size := 1 << bits.Len(uint(capacity*2-1))
	return table{
		conns: make([]conn, capacity),
		slots: make([]int32, size),
		mask:  uint64(size - 1),
		seed:  maphash.MakeSeed(),
	}
}

// hashKey hashes the two ends of a connection, IPv4 as IPv4-mapped IPv6.
func (t *table) hashKey(local, peer netip.AddrPort) uint64 {
	var k [36]byte
	a, b := local.Addr().As16(), peer.Addr().As16()
	copy(k[0:], a[:])
	copy(k[16:], b[:])
	lp, pp := local.Port(), peer.Port()
	k[32], k[33], k[34], k[35] = byte(lp>>8), byte(lp), byte(pp>>8), byte(pp)
	return maphash.Bytes(t.seed, k[:])
}

// lookup returns the index of the connection with these ends, or -1.
func (t *table) lookup(local, peer netip.AddrPort) int {
	h := t.hashKey(local, peer)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		c := &t.conns[s-1]
		if c.hash == h && c.local == local && c.peer == peer {
			return int(s - 1)
		}
	}
}

// add takes a free slot, fills its key and hash entry and returns its index,
// or -1 if the table is full. The caller fills the rest.
func (t *table) add(local, peer netip.AddrPort) int {
	if t.n == len(t.conns) || !t.budget.Take() {
		return -1
	}
	idx := t.n
	t.n++
	t.live++
	c := &t.conns[idx]
	*c = conn{local: local, peer: peer, hash: t.hashKey(local, peer), sock: -1}
	t.insertHash(c.hash, idx)
	return idx
}

func (t *table) insertHash(h uint64, idx int) {
	i := h & t.mask
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = int32(idx + 1)
}

// unhash removes the hash entry of the connection at idx, shifting later
// entries of the probe run back (Knuth's algorithm R), so that no
// tombstones are needed.
func (t *table) unhash(idx int) {
	h := t.conns[idx].hash
	i := h & t.mask
	for t.slots[i] != int32(idx+1) {
		if t.slots[i] == 0 {
			return
		}
		i = (i + 1) & t.mask
	}
	t.slots[i] = 0
	for j := (i + 1) & t.mask; t.slots[j] != 0; j = (j + 1) & t.mask {
		home := t.conns[t.slots[j]-1].hash & t.mask
		// Move slots[j] into the hole at i unless its home lies
		// cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			t.slots[j] = 0
			i = j
		}
	}
}

// rehash points the hash entry of the connection now at newIdx, which was
// at oldIdx, to its new slot.
func (t *table) rehash(oldIdx, newIdx int) {
	h := t.conns[newIdx].hash
	for i := h & t.mask; t.slots[i] != 0; i = (i + 1) & t.mask {
		if t.slots[i] == int32(oldIdx+1) {
			t.slots[i] = int32(newIdx + 1)
			return
		}
	}
}
