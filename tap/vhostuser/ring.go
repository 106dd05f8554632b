// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import "encoding/binary"

// Split virtqueue layout (virtio 1.x §2.7).
const (
	descSize        = 16 // struct virtq_desc: addr u64, len u32, flags u16, next u16
	descFNext       = 1  // VIRTQ_DESC_F_NEXT
	descFWrite      = 2  // VIRTQ_DESC_F_WRITE: device-writable
	descFIndirect   = 4  // VIRTQ_DESC_F_INDIRECT
	availFNoIntr    = 1  // VIRTQ_AVAIL_F_NO_INTERRUPT
	usedElemSize    = 8  // struct virtq_used_elem: id u32, len u32
	ringHeaderSize  = 4  // flags u16, idx u16
	ringTrailerSize = 2  // used_event / avail_event u16
)

// Desc is a split-ring descriptor at the start of a byte slice in guest
// memory. The guest may change it at any time: read each field once.
type Desc []byte

// Addr returns the buffer's guest-physical address.
func (d Desc) Addr() uint64 { return binary.LittleEndian.Uint64(d[0:]) }

// Len returns the buffer's length.
func (d Desc) Len() uint32 { return binary.LittleEndian.Uint32(d[8:]) }

// Flags returns the descriptor flags.
func (d Desc) Flags() uint16 { return binary.LittleEndian.Uint16(d[12:]) }

// Next returns the index of the next descriptor of the chain.
func (d Desc) Next() uint16 { return binary.LittleEndian.Uint16(d[14:]) }

// ringState says what a queue can do; see "Queue states" in doc.go.
type ringState uint8

const (
	ringStopped ringState = iota // no addresses or stopped by GET_VRING_BASE
	ringStarted                  // addresses and a kick: processed when enabled
	ringBroken                   // malformed: left alone until set up again
)

// vring is one split virtqueue as the back end sees it.
type vring struct {
	size  uint16 // entries (a power of two), from SET_VRING_NUM
	desc  []byte // the descriptor table, size*16 bytes of guest memory
	avail []byte // the available ring: flags, idx, ring[size], used_event
	used  []byte // the used ring: flags, idx, ring[size], avail_event

	addrDesc, addrAvail, addrUsed uint64 // as SET_VRING_ADDR gave them (front-end virtual)
	addrSet                       bool

	lastAvail uint16 // next available entry the back end takes
	usedIdx   uint16 // the used index published to the guest
	staged    uint16 // used entries written after usedIdx, not yet published

	kick, call, errFd int // eventfds from the front end, -1 if none
	state             ringState
	enabled           bool // SET_VRING_ENABLE (or implied by the kick without protocol features)
	eventIdx          bool // VIRTIO_RING_F_EVENT_IDX: used_event and avail_event steer notifications
}

func (q *vring) reset() {
	*q = vring{kick: -1, call: -1, errFd: -1}
}

// translate maps the ring's three parts through the memory table and
// checks their size and alignment. It reports false when they do not
// translate (the ring then stays stopped until they do).
func (q *vring) translate(m *memory) bool {
	q.desc, q.avail, q.used = nil, nil, nil
	if !q.addrSet || q.size == 0 {
		return false
	}
	n := uint64(q.size)
	desc := m.user(q.addrDesc, n*descSize)
	avail := m.user(q.addrAvail, ringHeaderSize+2*n+ringTrailerSize)
	used := m.user(q.addrUsed, ringHeaderSize+usedElemSize*n+ringTrailerSize)
	if desc == nil || avail == nil || used == nil ||
		!aligned(desc, 16) || !aligned(avail, 4) || !aligned(used, 4) {
		return false
	}
	q.desc, q.avail, q.used = desc, avail, used
	return true
}

// ready reports whether frames may move through the queue.
func (q *vring) ready() bool { return q.state == ringStarted && q.enabled && q.desc != nil }

// pending returns how many chains the guest has made available and the
// back end has not taken, or ok false when the index is off by more than
// the ring holds (the ring is malformed).
func (q *vring) pending() (n uint16, ok bool) {
	_, idx := loadWord16(q.avail, 0)
	n = idx - q.lastAvail
	return n, n <= q.size
}

// head returns the descriptor index at the next available entry, or ok
// false when it is not a descriptor of the table.
func (q *vring) head() (uint16, bool) {
	slot := int(q.lastAvail & (q.size - 1))
	h := binary.LittleEndian.Uint16(q.avail[ringHeaderSize+2*slot:])
	return h, h < q.size
}

// descAt returns descriptor i (i < size).
func (q *vring) descAt(i uint16) Desc { return Desc(q.desc[int(i)*descSize:][:descSize]) }

// stage writes a used entry after the ones not yet published.
func (q *vring) stage(head uint16, n uint32) {
	slot := int((q.usedIdx + q.staged) & (q.size - 1))
	e := q.used[ringHeaderSize+usedElemSize*slot:]
	binary.LittleEndian.PutUint32(e[0:], uint32(head))
	binary.LittleEndian.PutUint32(e[4:], n)
	q.staged++
}

// publish makes the staged used entries visible to the guest and reports
// whether the guest wants an interrupt for them: unless it set
// NO_INTERRUPT, or, with the event index, unless the used index did not
// pass the used_event it asked for (virtio 1.x §2.7.7.2).
func (q *vring) publish() bool {
	if q.staged == 0 {
		return false
	}
	old := q.usedIdx
	q.usedIdx += q.staged
	q.staged = 0
	storeWord16(q.used, 0, 0, q.usedIdx)
	flags, _ := loadWord16(q.avail, 0) // acquire: used_event is read after
	if !q.eventIdx {
		return flags&availFNoIntr == 0
	}
	event := binary.LittleEndian.Uint16(q.avail[ringHeaderSize+2*int(q.size):])
	return needEvent(event, q.usedIdx, old)
}

// needEvent is vring_need_event(): whether moving an index from old to
// new passed event.
func needEvent(event, new, old uint16) bool { return new-event-1 < new-old }

// askKick writes avail_event, with the event index: the guest kicks the
// queue when it makes entries available from the current available index
// on. An index that moved meanwhile (the guest added entries after
// reading the old avail_event, and did not kick) is written again, so
// that no addition goes unannounced.
func (q *vring) askKick(fence *uint32) {
	if !q.eventIdx {
		return
	}
	at := ringHeaderSize + usedElemSize*int(q.size)
	for range 4 {
		_, idx := loadWord16(q.avail, 0)
		binary.LittleEndian.PutUint16(q.used[at:], idx)
		storeFence(fence) // the store above before the load below
		if _, now := loadWord16(q.avail, 0); now == idx {
			return
		}
	}
}
