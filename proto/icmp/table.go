// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import "gopasst/flow"

// pingFlow is one echo "stream": a guest echo identifier towards one remote
// address, with its own ping socket. It holds no pointers, so the table is
// not scanned by the garbage collector.
type pingFlow struct {
	fd       int32    // ping socket, registered with the poller
	v6       bool     // ICMPv6 (remote, host and guest are IPv6)
	guestID  uint16   // echo identifier the guest uses; restored in replies
	remote   [16]byte // guest-visible remote address: request destination, reply source
	host     [16]byte // where the socket sends: remote after mapping (e.g. 127.0.0.1)
	guest    [16]byte // guest's address: request source, reply destination
	lastTap  int64    // monotonic ns of the last request from the guest
	requests uint32   // echo requests relayed
	replies  uint32   // echo replies relayed

	// Flow policy and audit (SetGate).
	opened    int64  // monotonic ns
	fromGuest uint64 // ICMP message bytes (echo header and data) from the guest
	toGuest   uint64 // ICMP message bytes to the guest
}

// table is a fixed-capacity dense array of flows, indexed by a
// flow.Index (open addressing, seeded hash, compaction by moving the last
// flow into the hole).
type table struct {
	flows  []pingFlow // [0, count) live
	count  int
	budget *flow.Budget // shared with the other handlers; nil: unlimited
	idx    flow.Index
}

func newTable(capacity int) table {
	return table{
		flows: make([]pingFlow, capacity),
		idx:   flow.NewIndex(capacity),
	}
}

func (t *table) hashKey(v6 bool, id uint16, remote *[16]byte) uint64 {
	var k [19]byte
	if v6 {
		k[0] = 1
	}
	k[1], k[2] = byte(id>>8), byte(id)
	copy(k[3:], remote[:])
	return t.idx.Hash(k[:])
}

// lookup returns the index of the flow for the key, or -1.
func (t *table) lookup(v6 bool, id uint16, remote *[16]byte) (idx int, hash uint64) {
	hash = t.hashKey(v6, id, remote)
	p := t.idx.Probe(hash)
	for i := p.Next(); i >= 0; i = p.Next() {
		f := &t.flows[i]
		if f.v6 == v6 && f.guestID == id && f.remote == *remote {
			return i, hash
		}
	}
	return -1, hash
}

// add appends a flow (whose key is set) of key hash hash and indexes it.
// The caller checks that count < cap.
func (t *table) add(f *pingFlow, hash uint64) int {
	t.budget.Take()
	idx := t.idx.Insert(hash)
	t.flows[idx] = *f
	t.count++
	return idx
}

// remove unindexes flow idx and moves the last flow into its place. It
// returns the old index of the flow that moved, or -1.
func (t *table) remove(idx int) (moved int) {
	moved = t.idx.Remove(idx)
	if moved >= 0 {
		t.flows[idx] = t.flows[moved]
	}
	t.flows[t.count-1] = pingFlow{}
	t.count--
	t.budget.Give()
	return moved
}
