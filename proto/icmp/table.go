// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"gopasst/flow"

	"hash/maphash"
	"net/netip"
)

// pingFlow is one echo "stream": a guest echo identifier towards one remote
// address, with its own ping socket. It holds no pointers, so the table is
// not scanned by the garbage collector.
type pingFlow struct {
	fd       int32    // ping socket, registered with the poller
	v6       bool     // ICMPv6 (remote, host and guest are IPv6)
	guestID  uint16   // echo identifier the guest uses; restored in replies
	hash     uint64   // of (v6, guestID, remote): home slot in the index
	remote   [16]byte // guest-visible remote address: request destination, reply source
	host     [16]byte // where the socket sends: remote after mapping (e.g. 127.0.0.1)
	guest    [16]byte // guest's address: request source, reply destination
	lastTap  int64    // monotonic ns of the last request from the guest
	requests uint32   // echo requests relayed
	replies  uint32   // echo replies relayed
}

func addrBytes(a netip.Addr) (b [16]byte) {
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b
	}
	return a.As16()
}

func bytesAddr(b *[16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

// table is a fixed-capacity dense array of flows, indexed by an
// open-addressing (linear probing) hash table of flow indices. Removal
// moves the last flow into the hole, as passt compacts its flow table, and
// uses backward-shift deletion, so there are no tombstones.
type table struct {
	flows  []pingFlow // [0, count) live
	count  int
	budget *flow.Budget // shared with the other handlers; nil: unlimited
	slots  []int32      // flow index + 1; 0 is empty. len is a power of two >= 2*cap
	mask   uint64
	seed   maphash.Seed
}

func newTable(capacity int) table {
	size := 2
	for size < 2*capacity {
		size <<= 1
	}
	return table{
		flows: make([]pingFlow, capacity),
		slots: make([]int32, size),
		mask:  uint64(size - 1),
		seed:  maphash.MakeSeed(),
	}
}

func (t *table) hashKey(v6 bool, id uint16, remote *[16]byte) uint64 {
	var k [19]byte
	if v6 {
		k[0] = 1
	}
	k[1], k[2] = byte(id>>8), byte(id)
	copy(k[3:], remote[:])
	return maphash.Bytes(t.seed, k[:])
}

// lookup returns the index of the flow for the key, or -1.
func (t *table) lookup(v6 bool, id uint16, remote *[16]byte) (idx int, hash uint64) {
	hash = t.hashKey(v6, id, remote)
	for i, n := hash&t.mask, 0; n < len(t.slots); i, n = (i+1)&t.mask, n+1 {
		s := t.slots[i]
		if s == 0 {
			return -1, hash
		}
		f := &t.flows[s-1]
		if f.hash == hash && f.v6 == v6 && f.guestID == id && f.remote == *remote {
			return int(s - 1), hash
		}
	}
	return -1, hash
}

// add appends a flow (whose key and hash are set) and indexes it. The
// caller checks that count < cap.
func (t *table) add(f *pingFlow) int {
	t.budget.Take()
	idx := t.count
	t.flows[idx] = *f
	t.count++
	i := f.hash & t.mask
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = int32(idx + 1)
	return idx
}

// slotOf returns the slot that holds idx.
func (t *table) slotOf(idx int) uint64 {
	i := t.flows[idx].hash & t.mask
	for t.slots[i] != int32(idx+1) {
		i = (i + 1) & t.mask
	}
	return i
}

// remove unindexes flow idx and moves the last flow into its place. It
// returns the old index of the flow that moved, or -1.
func (t *table) remove(idx int) (moved int) {
	t.unslot(t.slotOf(idx))
	last := t.count - 1
	moved = -1
	if idx != last {
		s := t.slotOf(last)
		t.flows[idx] = t.flows[last]
		t.slots[s] = int32(idx + 1)
		moved = last
	}
	t.flows[last] = pingFlow{}
	t.count--
	t.budget.Give()
	return moved
}

// unslot empties slot i with backward-shift deletion (Knuth 6.4
// Algorithm R): later entries of the probe run move back so that lookups
// never stop early.
func (t *table) unslot(i uint64) {
	for {
		t.slots[i] = 0
		j := i
		for {
			j = (j + 1) & t.mask
			s := t.slots[j]
			if s == 0 {
				return
			}
			home := t.flows[s-1].hash & t.mask
			// The entry at j may stay if its home lies cyclically in (i, j].
			if i <= j {
				if i < home && home <= j {
					continue
				}
			} else if i < home || home <= j {
				continue
			}
			t.slots[i] = s
			i = j
			break
		}
	}
}
