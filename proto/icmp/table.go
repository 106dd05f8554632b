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

// table is the handler's flow.Table of ping flows, keyed by (v6, guestID,
// remote).
type table struct {
	flow.Table[pingFlow]
}

func newTable(capacity int) table {
	return table{flow.NewTable[pingFlow](capacity, nil)}
}

func (t *table) hashKey(v6 bool, id uint16, remote *[16]byte) uint64 {
	var k [19]byte
	if v6 {
		k[0] = 1
	}
	k[1], k[2] = byte(id>>8), byte(id)
	copy(k[3:], remote[:])
	return t.Hash(k[:])
}

// lookup returns the index of the flow for the key, or -1.
func (t *table) lookup(v6 bool, id uint16, remote *[16]byte) (idx int, hash uint64) {
	hash = t.hashKey(v6, id, remote)
	p := t.Probe(hash)
	for i := p.Next(); i >= 0; i = p.Next() {
		f := t.At(i)
		if f.v6 == v6 && f.guestID == id && f.remote == *remote {
			return i, hash
		}
	}
	return -1, hash
}
