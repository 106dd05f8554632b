// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"math"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/proto/l2"
	"gopasst/tap"
)

// tapSink implements flow.Tap: it queues references to the handlers'
// frames until the end of the wake-up.
type tapSink Engine

// Send queues frames for the guest. The bytes must stay untouched until the
// end of the wake-up (see package flow); the slice itself is not kept. When
// the queue is full it is flushed on the spot.
func (t *tapSink) Send(frames [][]byte) { (*Engine)(t).queue(frames) }

// Flush implements flow.Flusher: it writes the queued frames now, so that
// a handler out of buffers may reuse them within the wake-up. It reports
// whether the device took every frame.
func (t *tapSink) Flush() bool {
	e := (*Engine)(t)
	full := e.st.TapFull
	e.flush()
	return e.st.TapFull == full && e.devErr == nil
}

// Room implements flow.Roomer: the device's room (tap.Roomer) less what
// this wake-up queued already.
func (t *tapSink) Room() int {
	e := (*Engine)(t)
	if e.roomer == nil {
		return math.MaxInt
	}
	return e.roomer.Room() - e.outBytes
}

// Lending implements flow.Lender: the device lends (tap.Lender), now,
// and no capture is on (it would have to read the frames back from the
// guest's memory; with one, frames are copied as before).
func (t *tapSink) Lending() bool {
	e := (*Engine)(t)
	return e.lender != nil && e.pcap == nil && e.devErr == nil && e.lender.Lending()
}

// Lend implements flow.Lender: the frames queued so far are written
// first, so that a lent frame overtakes none (held frames the device
// writes first itself: it lends nothing while it holds any).
func (t *tapSink) Lend(hdr int, caps []int, iov []unix.Iovec) (int, []unix.Iovec) {
	e := (*Engine)(t)
	if e.lender == nil || e.pcap != nil {
		return 0, iov
	}
	if len(e.out) > 0 {
		e.flush()
	}
	if e.devErr != nil {
		return 0, iov
	}
	n, iov, err := e.lender.Lend(hdr, caps, iov)
	if err != nil {
		e.devErr = err
		return 0, iov
	}
	return n, iov
}

// Commit implements flow.Lender, and counts the frames as written (or,
// those the device did not take, as TapFull).
func (t *tapSink) Commit(heads [][]byte, sizes []int, csumStart int) {
	e := (*Engine)(t)
	if e.lender == nil {
		return
	}
	n, err := e.lender.Commit(heads, sizes, csumStart)
	if err != nil && e.devErr == nil {
		e.devErr = err
	}
	k := min(len(heads), len(sizes))
	n = min(n, k)
	for i := range n {
		e.st.BytesOut += uint64(len(heads[i]) + sizes[i])
	}
	e.st.FramesOut += uint64(n)
	e.st.TapFull += uint64(k - n)
}

// MaxSegment implements flow.Segmenter: the longest IP packet of a
// segment frame the device takes; 0 without tap offloads.
func (t *tapSink) MaxSegment() int { return t.maxSeg }

// SendSegments implements flow.Segmenter: Send for TCP frames with a
// partial checksum, to be seen by the guest as segments of mss bytes.
// They are never fragmented. Without a device that takes them (MaxSegment
// 0) they are dropped and counted as TapFull.
func (t *tapSink) SendSegments(frames [][]byte, mss uint16) {
	e := (*Engine)(t)
	if e.maxSeg == 0 {
		e.st.TapFull += uint64(len(frames))
		return
	}
	for _, f := range frames {
		if len(f) == 0 {
			continue
		}
		if len(e.out) == cap(e.out) {
			e.flush()
		}
		e.out = append(e.out, f)
		e.outBytes += len(f)
		e.outSeg = append(e.outSeg, max(mss, 1))
	}
}

func (e *Engine) queue(frames [][]byte) {
	for _, f := range frames {
		if len(f) == 0 {
			continue
		}
		if mtu := e.n.MTU; mtu > 0 && len(f)-l2.EthernetSize > mtu {
			e.fragID++
			if e.fragr.Start(f, mtu, e.fragID) {
				e.queueFragments()
				continue
			}
		}
		if len(e.out) == cap(e.out) {
			e.flush()
		}
		e.out = append(e.out, f)
		e.outBytes += len(f)
		e.outSeg = append(e.outSeg, 0)
	}
}

// fragSlabSize holds the fragments of at least one datagram of any size
// at any MTU: 65,535 bytes of packet plus, per fragment, the Ethernet,
// IP and fragment headers.
const fragSlabSize = 256 << 10

// queueFragments queues the fragments of the frame e.fragr was started
// on, written into the fragment slab (flushed first when full).
func (e *Engine) queueFragments() {
	need := (e.fragr.Size() + 7) &^ 7
	for {
		if len(e.fragSlab)-e.fragPos < need || len(e.out) == cap(e.out) {
			e.flush()
		}
		dst := e.fragSlab[e.fragPos:]
		n, more := e.fragr.Next(dst)
		if n == 0 {
			return
		}
		e.fragPos += (n + 7) &^ 7
		e.st.Fragmented++
		e.out = append(e.out, dst[:n:n])
		e.outBytes += n
		e.outSeg = append(e.outSeg, 0)
		if !more {
			return
		}
	}
}

// flush writes the queued frames to the device, captures the ones written,
// and counts the rest as TapFull. Afterwards no queued frame is referenced.
func (e *Engine) flush() {
	if len(e.out) == 0 {
		e.fragPos = 0
		return
	}
	var (
		n   int
		err error
	)
	if e.off != nil {
		n, err = e.off.WriteSegments(e.out, e.outSeg)
	} else {
		n, err = e.dev.WriteFrames(e.out)
	}
	if n > len(e.out) {
		n = len(e.out)
	}
	var wall int64
	if e.pcap != nil {
		wall = time.Now().UnixNano()
	}
	for i, f := range e.out[:n] {
		e.st.BytesOut += uint64(len(f))
		if e.pcap != nil {
			if e.outSeg[i] != 0 {
				// Written; the capture gets the whole segment
				// with its checksum finished (the guest's
				// kernel does not need it).
				tap.FinishSegment(f)
			}
			e.pcap.WriteNanos(f, wall)
		}
	}
	e.st.FramesOut += uint64(n)
	e.st.TapFull += uint64(len(e.out) - n)
	clear(e.out) // do not keep the handlers' buffers reachable
	e.out = e.out[:0]
	e.outBytes = 0
	e.outSeg = e.outSeg[:0]
	e.fragPos = 0
	if err != nil && e.devErr == nil {
		e.devErr = err
	}
	if e.back != nil && e.back.Pending() && !e.tapOut {
		e.setTapOut(true)
	}
}

// setTapOut asks for (or stops asking for) EPOLLOUT on the device while a
// partial frame waits.
func (e *Engine) setTapOut(on bool) {
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	if on {
		ev |= unix.EPOLLOUT
	}
	fd := e.dev.Fd()
	if err := e.epollCtl(unix.EPOLL_CTL_MOD, fd, ev, flow.Ref{Kind: flow.KindTap, Fd: int32(fd)}); err == nil {
		e.tapOut = on
	}
}

// tapWritable finishes a partial frame on EPOLLOUT.
func (e *Engine) tapWritable() {
	if e.back == nil {
		return
	}
	if err := e.back.Flush(); err != nil && e.devErr == nil {
		e.devErr = err
	}
	if !e.back.Pending() && e.tapOut {
		e.setTapOut(false)
	}
}
