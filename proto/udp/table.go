// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"encoding/binary"

	"gopasst/flow"
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
	key flowKey
	typ flowType
	fd  int32 // own socket (flowOut, flowSplice), registered as KindUDP; -1 for flowIn
	lst int32 // listener index (flowIn, flowSplice); -1 for flowOut
	// peer is the host side's other end: for flowOut where the socket is
	// connected (the destination after mapping); for flowIn and
	// flowSplice the client's address as the listener's socket family
	// gives it (v4-mapped on a dual-stack listener).
	peer       [16]byte
	peerPort   uint16
	lastLen    uint16 // UDP length of the last datagram from the guest, for ICMP quotes
	seen       uint8  // seenFromGuest | seenToGuest: both make a "stream" (longer timeout)
	lastActive int64  // monotonic ns of the last datagram either way

	// Flow policy and audit (Config.Gate).
	gated     bool     // the gate let it open: Close it on close
	host      [16]byte // the host side's end: destination (flowOut, flowSplice) or client (flowIn)
	hostPort  uint16
	host6     bool   // host is IPv6
	opened    int64  // monotonic ns
	fromGuest uint64 // payload bytes from the guest (or the -U client)
	toGuest   uint64 // payload bytes to the guest (or the -U client)
}

// table is the handler's flow.Table of UDP flows, keyed by flowKey.
type table struct {
	flow.Table[udpFlow]
}

func newTable(capacity int, budget *flow.Budget) table {
	return table{flow.NewTable[udpFlow](capacity, budget)}
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
	return t.Hash(b[:])
}

// lookup returns the index of the flow with key k, or -1, and k's hash.
func (t *table) lookup(k *flowKey) (idx int, hash uint64) {
	hash = t.hashKey(k)
	p := t.Probe(hash)
	for i := p.Next(); i >= 0; i = p.Next() {
		if t.At(i).key == *k {
			return i, hash
		}
	}
	return -1, hash
}
