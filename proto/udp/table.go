// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"gopasst/flow"

	"encoding/binary"
	"hash/maphash"
	"net/netip"
)

// flowType says how a flow's datagrams travel.
type flowType uint8

const (
	// flowOut: started by the guest; the flow owns a socket connect()ed
	// to the mapped destination.
	flowOut flowType = iota
	// flowIn: started by a client of a -u listener; the guest's replies
	// leave through that listener with sendto(2). No socket of its own.
	flowIn
	// flowSplice: started by a client of a -U listener inside the
	// namespace; the flow owns a socket connect()ed to the host's
	// loopback, and its replies leave through the listener.
	flowSplice
)

// flowKey identifies a flow. Guest-side flows (flowOut and flowIn share
// one key space: the guest sees one tuple) have ns false, a the guest's
// address and port, b the remote address and port as the guest sees
// them. Splice flows have ns true, a the namespace client's address and
// port, and b the listener index in its first four bytes.
type flowKey struct {
	ns    bool
	v6    bool
	aPort uint16
	bPort uint16
	a, b  [16]byte
}

// Directions a flow has carried datagrams in.
const (
	seenFromGuest uint8 = 1 << iota // from the guest (or a -U client) to the host
	seenToGuest                     // from the host to the guest (or a -U client)
	seenBoth      = seenFromGuest | seenToGuest
)

// udpFlow is one flow. It holds no pointers, so the table is not scanned
// by the garbage collector.
type udpFlow struct {
	key  flowKey
	hash uint64 // of key: home slot in the index
	typ  flowType
	fd   int32 // own socket (flowOut, flowSplice), registered as KindUDP; -1 for flowIn
	lst  int32 // listener index (flowIn, flowSplice); -1 for flowOut
	// peer is the host side's other end: for flowOut where the socket is
	// connected (the destination after mapping); for flowIn and
	// flowSplice the client's address as the listener's socket family
	// gives it (v4-mapped on a dual-stack listener).
	peer       [16]byte
	peerPort   uint16
	lastLen    uint16 // UDP length of the last datagram from the guest, for ICMP quotes
	seen       uint8  // seenFromGuest | seenToGuest: both make a "stream" (longer timeout)
	lastActive int64  // monotonic ns of the last datagram either way
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
// open-addressing (linear probing) hash table of flow indices with a
// random seed, so that the guest cannot choose colliding keys. Removal
// moves the last flow into the hole, as passt compacts its flow table,
// and uses backward-shift deletion, so there are no tombstones.
type table struct {
	flows  []udpFlow // [0, count) live
	count  int
	budget *flow.Budget // shared with the other handlers; nil: unlimited
	slots  []int32      // flow index + 1; 0 is empty. len is a power of two >= 2*cap
	mask   uint64
	seed   maphash.Seed
}

func newTable(capacity int, budget *flow.Budget) table {
	size := 2
	for size < 2*capacity {
		size <<= 1
	}
	return table{
		flows:  make([]udpFlow, capacity),
		budget: budget,
		slots:  make([]int32, size),
		mask:   uint64(size - 1),
		seed:   maphash.MakeSeed(),
	}
}

func (t *table) hashKey(k *flowKey) uint64 {
	var b [37]byte
	if k.ns {
		b[0] = 1
	}
	if k.v6 {
		b[0] |= 2
	}
	binary.BigEndian.PutUint16(b[1:], k.aPort)
	binary.BigEndian.PutUint16(b[3:], k.bPort)
	copy(b[5:], k.a[:])
	copy(b[21:], k.b[:])
	return maphash.Bytes(t.seed, b[:])
}

// lookup returns the index of the flow with key k, or -1, and k's hash.
func (t *table) lookup(k *flowKey) (idx int, hash uint64) {
	hash = t.hashKey(k)
	for i, n := hash&t.mask, 0; n < len(t.slots); i, n = (i+1)&t.mask, n+1 {
		s := t.slots[i]
		if s == 0 {
			return -1, hash
		}
		f := &t.flows[s-1]
		if f.hash == hash && f.key == *k {
			return int(s - 1), hash
		}
	}
	return -1, hash
}

// full reports whether no flow can be added.
func (t *table) full() bool { return t.count == len(t.flows) || !t.budget.Available() }

// add appends f (whose key and hash are set) and indexes it. The caller
// checks full first.
func (t *table) add(f *udpFlow) int {
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
	t.flows[last] = udpFlow{}
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
