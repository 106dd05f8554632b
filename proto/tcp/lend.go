// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
)

// maxLendIov bounds the iovecs of one lent peek: the kernel's UIO_MAXIOV,
// less the discard buffer's.
const maxLendIov = 1024 - 1

// lendBufs are what sendLent needs besides the guest's buffers: the
// payload asked and lent per frame, the iovecs into the guest's memory,
// and the frames' headers, written here and copied by the device.
type lendBufs struct {
	caps  []int
	sizes []int
	iov   []unix.Iovec
	hdrs  []byte // batchFrames headers of l2.TCP6HeaderSize bytes
	heads [][]byte
}

func (b *lendBufs) init() {
	b.caps = make([]int, batchFrames)
	b.sizes = make([]int, 0, batchFrames)
	b.iov = make([]unix.Iovec, 0, maxLendIov+1)
	b.hdrs = make([]byte, batchFrames*l2.TCP6HeaderSize)
	b.heads = make([][]byte, 0, batchFrames)
}

// hdr returns the header buffer of frame i.
func (b *lendBufs) hdr(i int) []byte {
	o := i * l2.TCP6HeaderSize
	return b.hdrs[o : o+l2.TCP6HeaderSize : o+l2.TCP6HeaderSize]
}

// sendLent is sendCopied into the guest's receive buffers (flow.Lender):
// the tap lends up to need frames of mss bytes (room in all), the socket
// is peeked straight into them, and the frames that got data are
// committed with their headers, written here; the rest go back. The
// payload is never read back here: the guest may rewrite it, which
// harms only itself. peekCopy: nothing lent, the caller copies.
func (h *Handler) sendLent(idx int, c *conn, inflight, room, mss uint32, need int, now int64) peekNext {
	nf := min(need, batchFrames)
	caps := h.lend.caps[:nf]
	want := uint32(0)
	for i := range caps {
		sz := min(mss, room-want)
		caps[i] = int(sz)
		want += sz
	}
	iov := h.lend.iov[:0]
	if !h.peekOff && inflight > 0 {
		iov = append(iov, iovec(h.discardB[:inflight]))
	}
	hl := c.tmpl.HeaderLen()
	n, iov := h.lender.Lend(hl, caps, iov)
	if n == 0 {
		return peekCopy
	}
	lent := 0
	for _, sz := range caps[:n] {
		lent += sz
	}
	got, ok := h.peek(idx, c, iov, inflight, now)
	if !ok {
		h.lender.Commit(nil, nil, 0)
		return peekStop
	}
	heads, sizes := h.lend.heads[:0], h.lend.sizes[:0]
	wnd := uint16(min(c.wndToTap>>c.wsToTap, 0xffff))
	seq := c.seqToTap
	for i, sent := 0, 0; sent < got; i++ {
		sz := min(caps[i], got-sent)
		fl := l2.TCPFlagAck
		if sent+sz == got {
			fl |= l2.TCPFlagPsh
		}
		b := h.lend.hdr(i)
		c.tmpl.WriteHeaders(b, uint32(seq), uint32(c.seqFromTap), fl, wnd, sz)
		heads, sizes = append(heads, b[:hl]), append(sizes, sz)
		seq = seq.add(uint32(sz))
		sent += sz
	}
	h.lender.Commit(heads, sizes, hl-l2.TCPMinSize)
	h.counts.Lent += uint64(len(heads))
	h.sent(c, seq, inflight, now)
	return h.afterPeek(c, got == lent, nf == need && uint32(lent) == want)
}
