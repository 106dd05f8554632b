// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"

	"gopasst/tap"
)

// transmit takes up to len(bufs) frames from the transmit queue into
// bufs, returns the chains to the guest (used length 0) and notifies it
// once. It returns how many frames it read.
func (d *Device) transmit(bufs [][]byte, sizes []int) int {
	q := &d.q[txQueue]
	if !q.ready() || d.mem.n == 0 {
		return 0
	}
	avail, ok := q.pending()
	if !ok {
		d.broken(q, "available index beyond the ring")
		return 0
	}
	n := 0
	for ; avail > 0 && n < len(bufs); avail-- {
		head, ok := q.head()
		if !ok {
			d.broken(q, "available entry beyond the descriptor table")
			break
		}
		q.lastAvail++
		d.c.start(q, &d.mem, head)
		hdr := NetHdr(d.txHdr[:d.hdrLen])
		size, ok, long := d.c.readFrame(hdr, bufs[n])
		q.stage(head, 0)
		switch {
		case long:
			d.counters.TooLong++
		case !ok || hdr.GSOType() != 0: // no segmentation offload was offered
			d.counters.RingErrors++
		case size == 0:
		case hdr.Flags()&netHdrFNeedsCsum != 0 &&
			!finishChecksum(bufs[n][:size], int(hdr.CsumStart()), int(hdr.CsumOffset()), d.finishAll):
			d.counters.RingErrors++
		default:
			sizes[n] = size
			n++
		}
	}
	if q.publish() {
		d.notify(q)
	}
	return n
}

// receive copies frames into the receive queue's buffers, one or more
// chains a frame with mergeable buffers (the count in the header's
// num_buffers), after the backlog; what finds no room joins the backlog.
// segs[i] not 0 marks frame i as a TCP segment with a partial checksum
// (see WriteSegments). It publishes and notifies the guest once, and
// returns how many frames it took (written, dropped and counted, or
// held).
func (d *Device) receive(frames [][]byte, segs []uint16) int {
	d.giveBack()
	q := &d.q[rxQueue]
	if !q.ready() || d.mem.n == 0 {
		return 0
	}
	mrg := d.features&(1<<featMrgRxbuf) != 0
	d.drainBacklog(q, mrg)
	n := 0
	for i, f := range frames {
		var seg uint16
		if i < len(segs) {
			seg = segs[i]
		}
		f, csumStart := d.prepare(f, seg)
		if f == nil {
			n++ // dropped and counted
			continue
		}
		if d.backlog.n == 0 {
			r := d.receiveOne(q, f, csumStart, mrg)
			if r == rxBroken {
				break
			}
			if r != rxNoRoom {
				n++ // written, or dropped and counted
				continue
			}
		}
		if !d.backlog.push(f, csumStart) {
			break
		}
		d.counters.Held++
		n++
	}
	if q.publish() {
		d.notify(q)
	}
	return n
}

// prepare returns the frame to write for f and where its partial TCP
// checksum starts (0: none). A segment frame (seg not 0) keeps its
// partial checksum for a guest that takes NEEDS_CSUM (GUEST_CSUM); for
// another guest it is finished in a copy (the engine's frame stays as it
// is: a capture finishes it again). nil: not a TCP frame, dropped and
// counted.
func (d *Device) prepare(f []byte, seg uint16) ([]byte, int) {
	if seg == 0 {
		return f, 0
	}
	start, _, _, ok := tap.SegmentHeaders(f)
	if !ok {
		d.counters.BadSegments++
		return nil, 0
	}
	if d.features&(1<<featGuestCsum) != 0 {
		return f, start
	}
	if d.scratch == nil {
		d.scratch = make([]byte, 65536)
	}
	if len(f) > len(d.scratch) {
		d.counters.BadSegments++
		return nil, 0
	}
	s := d.scratch[:len(f)]
	copy(s, f)
	tap.FinishChecksum(s, start, tcpCsumOffset)
	d.counters.ChecksumsDone++
	return s, 0
}

// drainBacklog writes held frames into the receive queue, oldest first,
// until it has no room. The caller publishes.
func (d *Device) drainBacklog(q *vring, mrg bool) {
	for d.backlog.n > 0 {
		f, csumStart := d.backlog.peek()
		switch d.receiveOne(q, f, csumStart, mrg) {
		case rxNoRoom, rxBroken:
			return
		}
		d.backlog.pop()
	}
}

// flushBacklog writes held frames after the guest posted buffers (a
// receive-queue kick), publishes and notifies.
func (d *Device) flushBacklog() {
	q := &d.q[rxQueue]
	if d.backlog.n == 0 || !q.ready() || d.mem.n == 0 {
		return
	}
	d.drainBacklog(q, d.features&(1<<featMrgRxbuf) != 0)
	if q.publish() {
		d.notify(q)
	}
}

type rxResult uint8

const (
	rxDone   rxResult = iota // the frame is in the guest's buffers
	rxDrop                   // dropped (malformed chain, too long) and counted
	rxNoRoom                 // no buffers: nothing taken
	rxBroken                 // the ring is malformed
)

// receiveOne writes one frame: the virtio-net header, then the frame,
// across as many chains as it takes (one without mergeable buffers). The
// header says NEEDS_CSUM at csumStart (the TCP checksum) when that is not
// 0, else DATA_VALID (with GUEST_CSUM).
// Without room for all of it, the chains it took are given back
// (lastAvail and the staged entries rewound) and nothing is published.
func (d *Device) receiveOne(q *vring, f []byte, csumStart int, mrg bool) rxResult {
	lastAvail, staged := q.lastAvail, q.staged
	avail, ok := q.pending()
	if !ok {
		d.broken(q, "available index beyond the ring")
		return rxBroken
	}
	avail0 := avail
	hdr := d.hdr[:d.hdrLen]
	clear(hdr)
	switch {
	case csumStart != 0:
		hdr[0] = netHdrFNeedsCsum
		binary.LittleEndian.PutUint16(hdr[6:], uint16(csumStart))
		binary.LittleEndian.PutUint16(hdr[8:], tcpCsumOffset)
	case d.features&(1<<featGuestCsum) != 0:
		hdr[0] = netHdrFDataValid
	}
	var first uint16
	nbuf := 0
	for off := -len(hdr); off < len(f); {
		if avail == 0 {
			q.lastAvail, q.staged = lastAvail, staged
			d.rxSeen, d.rxShort = q.lastAvail+avail0, true
			return rxNoRoom
		}
		head, ok := q.head()
		if !ok {
			q.lastAvail, q.staged = lastAvail, staged
			d.broken(q, "available entry beyond the descriptor table")
			return rxBroken
		}
		q.lastAvail++
		avail--
		if nbuf == 0 {
			first = head
		}
		nbuf++
		d.c.start(q, &d.mem, head)
		wrote := 0
		if off < 0 {
			w, ok := d.c.write(hdr)
			if !ok || w < len(hdr) {
				// The header must fit the first chain.
				d.counters.RingErrors++
				return d.dropTaken(q, lastAvail, staged, nbuf)
			}
			off, wrote = 0, w
		}
		w, ok := d.c.write(f[off:])
		wrote += w
		off += w
		q.stage(head, uint32(wrote))
		if !ok {
			d.counters.RingErrors++
			return d.dropTaken(q, lastAvail, staged, nbuf)
		}
		if off < len(f) && !mrg {
			d.counters.TooLong++
			return d.dropTaken(q, lastAvail, staged, nbuf)
		}
	}
	if d.hdrLen == netHdrSize {
		hdr[netHdrNumBuffers] = byte(nbuf)
		hdr[netHdrNumBuffers+1] = byte(nbuf >> 8)
		d.c.start(q, &d.mem, first)
		d.c.write(hdr)
	}
	return rxDone
}

// dropTaken gives back the nbuf chains a dropped frame took, from
// available entry lastAvail on, as used with length 0 (the guest frees
// them), in place of what was staged for them.
func (d *Device) dropTaken(q *vring, lastAvail, staged uint16, nbuf int) rxResult {
	q.lastAvail, q.staged = lastAvail, staged
	for range nbuf {
		head, ok := q.head()
		if !ok {
			d.broken(q, "available entry beyond the descriptor table")
			return rxBroken
		}
		q.lastAvail++
		q.stage(head, 0)
	}
	return rxDrop
}

// Room implements tap.Roomer: about how many bytes of frames the receive
// queue takes now, from the buffers the guest made available (the first
// descriptor of each chain, at most 64 KiB each, less a header), 0 while
// frames are held back or the queue is not ready. The guest may change
// the ring meanwhile: this is an estimate for the TCP handler's pacing,
// and whatever does not fit is held back by WriteFrames all the same.
func (d *Device) Room() int {
	q := &d.q[rxQueue]
	if d.backlog.n > 0 || !q.ready() || d.mem.n == 0 {
		return 0
	}
	avail, ok := q.pending()
	if !ok {
		return 0
	}
	d.rxSeen = q.lastAvail + avail
	room := 0
	for i := range avail {
		slot := int((q.lastAvail + i) & (q.size - 1))
		head := binary.LittleEndian.Uint16(q.avail[ringHeaderSize+2*slot:])
		if head >= q.size {
			break
		}
		room += int(min(q.descAt(head).Len(), 64<<10)) - d.hdrLen
	}
	if room < 64<<10 {
		d.rxShort = true
	}
	return max(room, 0)
}
