// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
)

// Control frames towards the guest: SYN, SYN+ACK, ACK, FIN, RST.

// sendCtl sends a segment without payload on connection idx, with the
// current ACK and window. SYNs carry MSS and window scale options. It
// returns false if no frame buffer was left.
func (h *Handler) sendCtl(idx int, fl l2.TCPFlags, seq seqnum) bool {
	c := &h.tab.conns[idx]
	if h.wq.cnt > 0 {
		// The ACK field: only what the socket took (writeq.go).
		h.flushWrites()
		if c.ev == 0 {
			return false
		}
	}
	b := h.ctlBuf()
	if b == nil {
		h.counts.CtlDropped++
		return false
	}
	var opts [8]byte
	ol := 0
	wnd := c.wndToTap >> c.wsToTap
	if fl&l2.TCPFlagSyn != 0 {
		ws := -1
		if c.wsToTap != 0 || c.ev&evSockAccepted != 0 {
			ws = wsToTap
		}
		ol = putSynOptions(opts[:], h.mssToTap(c.v6), ws)
		// The window of a SYN is never scaled (RFC 7323 section 2.2).
		wnd = min(c.wndToTap, 0xffff)
	}
	ack := uint32(0)
	if fl&l2.TCPFlagAck != 0 {
		ack = uint32(c.seqFromTap)
		c.seqAckToTap = c.seqFromTap
	}
	n := c.tmpl.Write(b, uint32(seq), ack, fl, uint16(min(wnd, 0xffff)), opts[:ol], 0)
	if n == 0 {
		return false
	}
	if fl&l2.TCPFlagRst != 0 {
		h.counts.Resets++
	}
	h.fr.out = append(h.fr.out[:0], b[:n])
	h.tap.Send(h.fr.out)
	h.fr.out = h.fr.out[:0]
	return true
}

// ctlBuf takes a control frame buffer, flushing the tap first if this
// wake-up's buffers are used up (see flushFrames); nil if none is left.
func (h *Handler) ctlBuf() []byte {
	b := h.fr.ctlFrame()
	if b == nil && h.flushFrames() {
		b = h.fr.ctlFrame()
	}
	return b
}

// mssToTap returns the MSS we announce to the guest: what fits in the MTU.
func (h *Handler) mssToTap(v6 bool) uint16 {
	hl := l2.IPv4MinSize + l2.TCPMinSize
	if v6 {
		hl = l2.IPv6MinSize + l2.TCPMinSize
	}
	return uint16(min(h.mtu-hl, 0xffff))
}

// windowToTap returns the window to advertise for data from the guest:
// the free space of the host socket's send buffer, so that everything the
// guest may send can be written (see PASTA-STALL in doc.go). The free
// space is read with SO_MEMINFO: SO_SNDBUF minus the memory the queued
// data takes (sk_wmem_queued, the data with its buffer overhead), of
// which three quarters are counted as payload. Data written to a TCP
// socket is appended to the last buffer of up to 64 KiB, so the overhead
// is a few percent, not the half that socket(7) allows for; counting
// half of SO_SNDBUF, as before SO_MEMINFO (Linux 4.11) and where it
// fails, left the guest waiting for the window with the default
// net.core.wmem_max of 4 MiB (SO_SNDBUF 8 MiB): a window of 4 MiB is
// 1.6 ms at 20 Gbit/s.
func (h *Handler) windowToTap(c *conn) uint32 {
	var free int64
	if n, e := getsockoptBytes(c.sock, unix.SOL_SOCKET, unix.SO_MEMINFO, h.meminfo[:]); e == 0 && n >= memInfoQueued*4+4 {
		sndbuf := int64(binary.NativeEndian.Uint32(h.meminfo[memInfoSndbuf*4:]))
		queued := int64(binary.NativeEndian.Uint32(h.meminfo[memInfoQueued*4:]))
		h.sndbufUsable = uint32(sndbuf * 3 / 4)
		// The kernel reports the socket writable (EPOLLOUT) once the
		// free space is at least half the queued memory: queued at
		// most 2/3 of SO_SNDBUF, a window of sndbuf/4 by the formula
		// below. Less a margin for the rounding, that is the window
		// under which checkLowWindow asks for EPOLLOUT.
		h.wndLow = uint32(max(sndbuf/4-wndLowMargin, 0))
		free = (sndbuf - queued) * 3 / 4
	} else {
		if getsockoptInt(c.sock, unix.SOL_SOCKET, unix.SO_SNDBUF, &h.scratch) != 0 {
			return 0
		}
		sndbuf := int64(h.scratch) / 2
		h.sndbufUsable = uint32(sndbuf)
		h.wndLow = uint32(sndbuf / 2)
		if ioctlInt(c.sock, unix.SIOCOUTQ, &h.scratch) != 0 {
			return 0
		}
		free = sndbuf - int64(h.scratch)
	}
	limit := int64(0xffff) << c.wsToTap
	free = max(min(free, limit), 0)
	// Round down to what the scaled field can carry.
	return uint32(free) >> c.wsToTap << c.wsToTap
}

// Indices of the u32 values SO_MEMINFO returns (SK_MEMINFO_*, linux/
// sock_diag.h), and how many it has.
const (
	memInfoSndbuf = 3 // SK_MEMINFO_SNDBUF
	memInfoQueued = 5 // SK_MEMINFO_WMEM_QUEUED
	memInfoVars   = 9 // SK_MEMINFO_VARS
)

// sendAck sends an ACK with a fresh window if the acknowledged sequence
// or the window changed since the last one; otherwise it only clears
// flAckToTapDue. An ACK that is sent goes through checkLowWindow, which
// asks for EPOLLOUT while the advertised window is low (established
// connections the guest has not closed): when the socket drains, sockEvent
// marks a window update due. If the tap has no frame for the ACK, it stays
// due and the ACK timer retries; EPOLLOUT is then left as it was.
func (h *Handler) sendAck(idx int, now int64) {
	h.ackNow(idx, false)
}

// ackNow sends an ACK; force sends it even if nothing changed (a duplicate
// ACK for an out-of-order segment).
func (h *Handler) ackNow(idx int, force bool) {
	c := &h.tab.conns[idx]
	h.flushWrites() // the ACK and the free space after the writes
	if c.ev == 0 {
		return
	}
	wnd := h.windowToTap(c)
	if !force && c.seqAckToTap == c.seqFromTap && wnd == c.wndToTap {
		c.fl &^= flAckToTapDue
		return
	}
	c.wndToTap = wnd
	if !h.sendCtl(idx, l2.TCPFlagAck, c.seqToTap) {
		return // stays due; the ACK timer retries
	}
	c.fl &^= flAckToTapDue
	h.checkLowWindow(idx)
}

// checkLowWindow watches the socket for write space while the window we
// advertised is low: under four frames, or under the window the socket
// will have when the kernel next reports it writable (wndLow). Once the
// guest has sent up to that window's edge, nothing but EPOLLOUT tells us
// the host socket drained, so every low window re-arms EPOLLOUT (armPollOut),
// even if it is in the interest already: EPOLLOUT is edge-triggered, and
// TCP only signals write space when the socket was marked full (SOCK_NOSPACE)
// since the last signal. A write that fits never marks it; the poll
// epoll_ctl makes does, or reports the socket writable at once.
// Measured: without the re-arm, the guest sat on a window smaller than
// a segment for 15-50 ms (the ACK timer) many times a second, and
// namespace → host throughput fell from 15 to 5-7 Gbit/s in those runs.
func (h *Handler) checkLowWindow(idx int) {
	c := &h.tab.conns[idx]
	low := c.wndToTap < uint32(h.mtu)*4 || c.wndToTap < h.wndLow
	if low {
		c.fl |= flZeroWndToTap
	} else {
		c.fl &^= flZeroWndToTap
	}
	if c.established() && c.ev&evTapFinRcvd == 0 {
		if low {
			h.armPollOut(idx)
		} else {
			h.setPollOut(idx, false)
		}
	}
}

// rstNoConn answers a segment that matches no connection, as RFC 9293
// section 3.10.7.1 says: <SEQ=SEG.ACK><CTL=RST> if it had ACK, else
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
func (h *Handler) rstNoConn(src, dst netip.AddrPort, t l2.TCP, plen int) {
	b := h.ctlBuf()
	if b == nil {
		h.counts.CtlDropped++
		return
	}
	s := l2.TCPSegment{
		Link: l2.Link{SrcMAC: [6]byte(h.net.OurMAC), DstMAC: [6]byte(h.net.GuestMAC)},
		Src:  dst, Dst: src,
	}
	if t.Flags()&l2.TCPFlagAck != 0 {
		s.Seq = t.AckNumber()
		s.Flags = l2.TCPFlagRst
	} else {
		n := uint32(plen)
		if t.Flags()&l2.TCPFlagSyn != 0 {
			n++
		}
		if t.Flags()&l2.TCPFlagFin != 0 {
			n++
		}
		s.Ack = t.SequenceNumber() + n
		s.Flags = l2.TCPFlagRst | l2.TCPFlagAck
	}
	var n int
	if src.Addr().Is4() {
		n = l2.BuildTCP4(b, &s)
	} else {
		n = l2.BuildTCP6(b, &s)
	}
	if n == 0 {
		return
	}
	h.counts.Resets++
	h.fr.out = append(h.fr.out[:0], b[:n])
	h.tap.Send(h.fr.out)
	h.fr.out = h.fr.out[:0]
}
