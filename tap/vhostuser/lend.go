// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// Limits of one loan: the frames and chains it records. A Linux guest's
// mergeable buffers are a page or less, so maxLendChains holds 64 frames
// of 64 KiB; what goes over is simply not lent this time.
const (
	maxLendFrames = 256
	maxLendChains = 1024
)

// lentFrame is a frame of the current loan: its chains, n of them from
// lending.chains[first] on, the start of the first buffer (the
// virtio-net header, then the frame's headers), and the payload lent.
type lentFrame struct {
	first, n int
	head     []byte
	payload  int
}

// lentChain is a chain of the current loan: its head and how many bytes
// of it were lent (the headers included, in a frame's first chain).
type lentChain struct {
	head uint16
	size uint32
}

// lending is the state of a loan between Lend and Commit. Its arrays are
// allocated on the first Lend.
type lending struct {
	on     bool
	start  uint16 // the receive queue's lastAvail at Lend
	hdr    int    // the frames' header bytes
	frames []lentFrame
	chains []lentChain
}

// Lending implements tap.Lender: the receive queue is up, the guest takes
// partial checksums (GUEST_CSUM: the payload is never summed) and nothing
// is held back (held frames go first).
func (d *Device) Lending() bool {
	q := &d.q[rxQueue]
	return d.err == nil && d.features&(1<<featGuestCsum) != 0 &&
		d.backlog.n == 0 && q.ready() && d.mem.n != 0
}

// Lend implements tap.Lender. Each frame starts a chain, whose first
// buffer must hold the virtio-net header and the frame's headers; its
// payload is the rest of that buffer, then the chain's further buffers,
// then (mergeable buffers) further chains, as receiveOne fills them.
// Chains are taken from the available ring (lastAvail moves) but nothing
// is staged before Commit. Every descriptor is read and checked once
// (chain.buf). A malformed chain, or a first buffer too small for the
// headers, ends the loan before that chain, untaken: WriteFrames deals
// with it (drops and counts it, or writes the frame across buffers).
func (d *Device) Lend(hdr int, caps []int, iov []unix.Iovec) (n int, out []unix.Iovec, err error) {
	d.giveBack()
	if !d.Lending() || hdr <= 0 {
		return 0, iov, d.err
	}
	defer d.guard(&err, debug.SetPanicOnFault(true))
	l := &d.lend
	if l.frames == nil {
		l.frames = make([]lentFrame, 0, maxLendFrames)
		l.chains = make([]lentChain, 0, maxLendChains)
	}
	q := &d.q[rxQueue]
	avail, ok := q.pending()
	if !ok {
		d.broken(q, "available index beyond the ring")
		return 0, iov, nil
	}
	*l = lending{on: true, start: q.lastAvail, hdr: hdr, frames: l.frames[:0], chains: l.chains[:0]}
	hl := d.hdrLen + hdr
	mrg := d.features&(1<<featMrgRxbuf) != 0
	short, stop := false, false
	for !stop && n < len(caps) && n < maxLendFrames && len(iov) < cap(iov) {
		if avail == 0 || len(l.chains) == cap(l.chains) {
			short = avail == 0
			break
		}
		// The first chain: its first buffer holds both headers.
		head, ok := q.head()
		if !ok {
			d.broken(q, "available entry beyond the descriptor table")
			break
		}
		d.c.start(q, &d.mem, head)
		b, write, good := d.c.buf()
		if !good || !write || len(b) < hl {
			break
		}
		mark, iov0 := q.lastAvail, len(iov)
		q.lastAvail++
		avail--
		fr := lentFrame{first: len(l.chains), n: 1, head: b[:hl]}
		l.chains = append(l.chains, lentChain{head: head, size: uint32(hl)})
		b = b[hl:]
		want := caps[n]
		chainIov, chainPay := iov0, 0 // where the current chain's payload starts
		bad := false
		for fr.payload < want && len(iov) < cap(iov) {
			if len(b) > 0 {
				k := min(len(b), want-fr.payload)
				iov = append(iov, iovecOf(b[:k]))
				fr.payload += k
				l.chains[len(l.chains)-1].size += uint32(k)
				b = nil
				continue
			}
			if !d.c.end {
				b, write, good = d.c.buf()
				if good && (len(b) == 0 || write) {
					continue
				}
				bad = true
				break
			}
			// The chain is full: the next one, with mergeable buffers.
			if !mrg || avail == 0 || len(l.chains) == cap(l.chains) {
				short = avail == 0
				break
			}
			h, ok := q.head()
			if !ok {
				d.broken(q, "available entry beyond the descriptor table")
				stop = true
				break
			}
			chainIov, chainPay = len(iov), fr.payload
			q.lastAvail++
			avail--
			d.c.start(q, &d.mem, h)
			l.chains = append(l.chains, lentChain{head: h})
			fr.n++
		}
		if bad {
			// A malformed chain: it and what follows are not lent
			// (WriteFrames then drops it, counted).
			iov, fr.payload = iov[:chainIov], chainPay
			l.chains = l.chains[:len(l.chains)-1]
			fr.n--
			q.lastAvail--
			avail++
			stop = true
		}
		// Chains that got nothing (a full iovec array, empty
		// buffers) are not taken.
		for fr.n > 1 && l.chains[len(l.chains)-1].size == 0 {
			l.chains = l.chains[:len(l.chains)-1]
			fr.n--
			q.lastAvail--
			avail++
		}
		if fr.n == 0 || fr.payload == 0 {
			avail += q.lastAvail - mark
			q.lastAvail = mark
			l.chains = l.chains[:fr.first]
			iov = iov[:iov0]
			break
		}
		caps[n] = fr.payload
		l.frames = append(l.frames, fr)
		n++
		if fr.payload < want {
			break
		}
	}
	if short {
		// Someone waits for buffers: the guest's next ones wake the
		// engine (askKicks).
		d.rxSeen, d.rxShort = q.lastAvail+avail, true
	}
	if n == 0 {
		d.giveBack()
	}
	return n, iov, nil
}

// Commit implements tap.Lender. The committed frames' chains are staged
// used, in the order taken, each with the bytes it got; the virtio-net
// header (NEEDS_CSUM at csumStart, num_buffers) and the frame's headers
// are written into each first buffer. The available index is rewound to
// after the last chain that got bytes: the rest go back to the guest
// (all of them come after, as the payload was filled in order). A frame
// shorter than lent ends the commit after it.
func (d *Device) Commit(heads [][]byte, sizes []int, csumStart int) (n int, err error) {
	l := &d.lend
	if !l.on {
		return 0, d.err
	}
	q := &d.q[rxQueue]
	d.giveBack()
	if d.err != nil || !q.ready() {
		return 0, d.err // stopped as malformed meanwhile
	}
	defer d.guard(&err, debug.SetPanicOnFault(true))
	hl := d.hdrLen + l.hdr
	for i, fr := range l.frames {
		if i >= len(heads) || i >= len(sizes) || sizes[i] <= 0 || len(heads[i]) < l.hdr {
			break
		}
		p := min(sizes[i], fr.payload)
		left := hl + p
		nbuf := 0
		for _, c := range l.chains[fr.first : fr.first+fr.n] {
			if left == 0 {
				break
			}
			w := min(int(c.size), left)
			q.stage(c.head, uint32(w))
			q.lastAvail++
			left -= w
			nbuf++
		}
		h := fr.head
		clear(h[:d.hdrLen])
		h[0] = netHdrFNeedsCsum
		binary.LittleEndian.PutUint16(h[6:], uint16(csumStart))
		binary.LittleEndian.PutUint16(h[8:], tcpCsumOffset)
		if d.hdrLen == netHdrSize {
			binary.LittleEndian.PutUint16(h[netHdrNumBuffers:], uint16(nbuf))
		}
		copy(h[d.hdrLen:], heads[i][:l.hdr])
		n++
		if p < fr.payload {
			break
		}
	}
	if q.publish() {
		d.notify(q)
	}
	return n, nil
}

// giveBack ends a loan, if one is on, as if nothing was committed: the
// available index goes back to where the loan took it.
func (d *Device) giveBack() {
	if d.lend.on {
		d.q[rxQueue].lastAvail = d.lend.start
		d.lend.on = false
	}
}

// iovecOf points an iovec at b (not empty).
func iovecOf(b []byte) unix.Iovec {
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return v
}
