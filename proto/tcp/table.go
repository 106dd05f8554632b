// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"gopasst/flow"

	"net/netip"
)

// table is the connection table: a dense array, and a flow.Index (open
// addressing, linear probing, load at most 50%) from the connection's
// addresses to its index. The hash is seeded per process, so a guest
// cannot aim for collisions. Closing a connection moves the last one into
// its slot (see compact); indices are stable within a wake-up. The array
// starts at initialCapacity and doubles when full, up to max, so that an
// idle handler stays small while the limit is the shared flow budget; it
// halves again (shrink) while at most an eighth of it is in use.
//
// A table is unsafe for concurrent use.
type table struct {
	conns []conn // [0:n] live or closed-pending-compaction; len is the current capacity
	n     int    // slots in use
	live  int    // slots with events != 0
	max   int    // the most slots conns may grow to
	idx   flow.Index
	// budget is the flow capacity shared with the engine's other handlers
	// (one unit per live connection); nil: unlimited.
	budget *flow.Budget
}

// newTable returns a table of at most max connections, starting small.
func newTable(max int) table {
	c := min(initialCapacity, max)
	return table{
		conns: make([]conn, c),
		max:   max,
		idx:   flow.NewIndex(c),
	}
}

// grow doubles the table, up to max; false if it is at max already. It
// allocates, once per doubling; pointers into conns are stale after it.
func (t *table) grow() bool {
	c := min(2*len(t.conns), t.max)
	if c <= len(t.conns) {
		return false
	}
	t.resize(c)
	t.idx.Grow(c)
	return true
}

// resize moves the connections in use to a new array of c slots.
func (t *table) resize(c int) {
	conns := make([]conn, c)
	copy(conns, t.conns[:t.n])
	t.conns = conns
}

// shrink halves the table, and again, while at most an eighth of it is in
// use, down to initialCapacity: after a burst of connections the memory
// of the large array can go back to the system. It allocates, only when
// it shrinks; pointers into conns are stale after it. It returns whether
// it did.
func (t *table) shrink() bool {
	c := len(t.conns)
	for c > initialCapacity && t.n*8 <= c {
		c /= 2
	}
	if c == len(t.conns) {
		return false
	}
	t.resize(c)
	t.idx.Shrink(c)
	return true
}

// hashKey hashes the two ends of a connection, IPv4 as IPv4-mapped IPv6.
func (t *table) hashKey(local, peer netip.AddrPort) uint64 {
	var k [36]byte
	a, b := local.Addr().As16(), peer.Addr().As16()
	copy(k[0:], a[:])
	copy(k[16:], b[:])
	lp, pp := local.Port(), peer.Port()
	k[32], k[33], k[34], k[35] = byte(lp>>8), byte(lp), byte(pp>>8), byte(pp)
	return t.idx.Hash(k[:])
}

// lookup returns the index of the connection with these ends, or -1.
func (t *table) lookup(local, peer netip.AddrPort) int {
	p := t.idx.Probe(t.hashKey(local, peer))
	for i := p.Next(); i >= 0; i = p.Next() {
		c := &t.conns[i]
		if c.local == local && c.peer == peer {
			return i
		}
	}
	return -1
}

// add takes a free slot, growing the table if it is full, fills its key
// and hash entry and returns its index, or -1 if the table is at its
// maximum or the budget is spent. The caller fills the rest; pointers
// into conns taken before add are stale after it.
func (t *table) add(local, peer netip.AddrPort) int {
	if !t.budget.Available() || (t.n == len(t.conns) && !t.grow()) || !t.budget.Take() {
		return -1
	}
	idx := t.idx.Insert(t.hashKey(local, peer))
	t.n++
	t.live++
	t.conns[idx] = conn{local: local, peer: peer, sock: -1}
	return idx
}

// unhash removes the hash entry of the connection at idx; its slot stays
// in use until compact.
func (t *table) unhash(idx int) { t.idx.Unlink(idx) }

// compact fills the slot idx of a closed (unhashed) connection with the
// last one and releases the last slot. It returns the old index of the
// connection that moved to idx, or -1.
func (t *table) compact(idx int) (moved int) {
	moved = t.idx.Compact(idx)
	last := t.n - 1
	if moved >= 0 {
		t.conns[idx] = t.conns[last]
	}
	t.conns[last] = conn{sock: -1}
	t.n--
	return moved
}
