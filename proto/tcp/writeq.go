// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The write queue gathers the in-sequence payloads of consecutive
// segments of one connection from a batch of frames, and writes them with
// one sendmsg instead of one send each: the engine hands the frames of a
// batch one by one (HandleTap), and the handler is a flow.Batcher, so the
// payloads stay valid until EndBatch. See "Writes to the socket" in
// doc.go.
//
// The sequence the guest is acknowledged for moves when data is queued
// (seqFromTap), so every path that tells the guest that sequence (an ACK,
// a data frame's ACK field) or reads the socket's free space flushes the
// queue first (flushWrites); a write that comes up short takes the
// unwritten bytes back from seqFromTap before anything was acknowledged,
// and the guest sends them again, as with a short send before.

// maxGather bounds the payloads one sendmsg takes (far under IOV_MAX).
const maxGather = 64

// writeQueue is the gathered payloads of connection idx.
type writeQueue struct {
	idx int // connection, when cnt > 0
	cnt int // payloads queued
	n   int // their bytes
	iov [maxGather]unix.Iovec
	msg unix.Msghdr
}

// queueWrite queues data for connection idx, which must be the queue's
// connection or the queue empty and not full (see gatherFor), and moves
// seqFromTap past it.
func (h *Handler) queueWrite(idx int, data []byte) {
	q := &h.wq
	c := &h.tab.conns[idx]
	q.idx = idx
	q.iov[q.cnt].Base = &data[0]
	q.iov[q.cnt].SetLen(len(data))
	q.cnt++
	q.n += len(data)
	c.seqFromTap = c.seqFromTap.add(uint32(len(data)))
	c.bytesFromTap += uint64(len(data))
	c.fl |= flAckToTapDue
}

// gatherFor makes room in the queue for a payload of connection idx:
// it flushes what another connection queued, or a full queue.
func (h *Handler) gatherFor(idx int) {
	q := &h.wq
	if q.cnt > 0 && (q.idx != idx || q.cnt == len(q.iov)) {
		h.flushWrites()
	}
}

// flushWrites writes the queued payloads to their socket. What the socket
// does not take is given back: seqFromTap moves back over it, the guest
// is not acknowledged for it and sends it again, and EPOLLOUT is asked for
// (the window update when the socket drains). An error resets the
// connection.
func (h *Handler) flushWrites() {
	q := &h.wq
	if q.cnt == 0 {
		return
	}
	idx, cnt, total := q.idx, q.cnt, q.n
	q.cnt, q.n = 0, 0
	c := &h.tab.conns[idx]
	if c.ev == 0 {
		return // closed meanwhile: closeConn already gave up the bytes
	}
	var n int
	var e unix.Errno
	if cnt == 1 {
		n, e = send(c.sock, unsafe.Slice(q.iov[0].Base, q.iov[0].Len))
	} else {
		n, e = sendIov(c.sock, q.iov[:cnt], &q.msg)
	}
	switch {
	case e == unix.EAGAIN || e == unix.EINTR:
		n = 0
	case e != 0:
		h.resetBoth(idx)
		return
	}
	if n < total {
		back := uint32(total - n)
		c.seqFromTap -= seqnum(back)
		c.bytesFromTap -= uint64(back)
		h.counts.ShortWrites++
		h.setPollOut(idx, true)
	}
}

// dropWrites forgets what connection idx queued: it is being closed.
func (h *Handler) dropWrites(idx int) {
	if h.wq.cnt > 0 && h.wq.idx == idx {
		h.wq.cnt, h.wq.n = 0, 0
	}
}

// EndBatch implements flow.Batcher: the frames of the batch are about to
// be overwritten, so the queued payloads are written now.
func (h *Handler) EndBatch(now int64) { h.flushWrites() }
