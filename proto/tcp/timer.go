// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"math"

	"gopasst/proto/l2"
)

// Timers: each connection has one deadline, derived from its events and
// flags by timerFor; Tick scans the dense table only when the earliest
// deadline has passed. See "Timers" in doc.go. Mirrors tcp_timer_ctl() and
// tcp_timer_handler() in passt tcp.c, without a timerfd per connection.

// timerKind says which timeout a deadline stands for.
type timerKind uint8

const (
	tmSyn      timerKind = iota // handshake: resend SYN/SYN+ACK, reset at synTimeout
	tmAck                       // data in flight to the guest: rewind, reset after maxRetrans
	tmAckDue                    // an ACK or window update is due, or our window is low
	tmProbe                     // the guest's window is zero and data waits: probe
	tmFin                       // half-closed: reset when idle
	tmActivity                  // idle: reset
)

// timerFor returns the deadline of a connection and what it stands for.
func timerFor(c *conn, now int64) (int64, timerKind) {
	switch {
	case c.ev&(evSockAccepted|evTapSynRcvd) != 0:
		return min(c.created+synTimeout, c.ackSince+ackTimeout), tmSyn
	case c.inFlight() > 0:
		return c.ackSince + ackTimeout, tmAck
	case c.fl&(flAckToTapDue|flZeroWndToTap) != 0:
		return now + ackInterval, tmAckDue
	case c.wndFromTap == 0 && c.fl&flSockReadable != 0:
		return c.ackSince + ackTimeout, tmProbe
	case c.ev&(evTapFinSent|evTapFinRcvd|evSockFinRcvd) != 0:
		return c.lastAct + finTimeout, tmFin
	default:
		return c.lastAct + actTimeout, tmActivity
	}
}

// rearm recomputes the deadline of c.
func (h *Handler) rearm(c *conn, now int64) {
	d, _ := timerFor(c, now)
	c.deadline = d
	if d < h.nextCheck {
		h.nextCheck = d
	}
}

// Tick runs the timers that are due. now is monotonic nanoseconds.
func (h *Handler) Tick(now int64) {
	h.flushWrites()
	if now < h.nextCheck {
		return
	}
	next := int64(math.MaxInt64)
	for i := 0; i < h.tab.n; i++ {
		c := &h.tab.conns[i]
		if c.ev == 0 {
			continue
		}
		if now >= c.deadline {
			h.expire(i, now)
			if c.ev == 0 {
				continue
			}
			h.rearm(c, now)
		}
		next = min(next, c.deadline)
	}
	h.nextCheck = next
	h.settle(now)
}

// NextTick implements flow.Sleeper: the earliest connection deadline,
// or at once while connections wait for frames (flPending).
func (h *Handler) NextTick(now int64) int64 {
	if h.pending > 0 {
		return now
	}
	return h.nextCheck
}

// expire handles the deadline of connection idx.
func (h *Handler) expire(idx int, now int64) {
	c := &h.tab.conns[idx]
	d, kind := timerFor(c, now)
	if now < d && kind != tmAckDue {
		return
	}
	switch kind {
	case tmSyn:
		if now >= c.created+synTimeout {
			h.resetBoth(idx)
			return
		}
		c.ackSince = now
		switch {
		case c.ev&evSockAccepted != 0:
			h.sendCtl(idx, l2.TCPFlagSyn, c.seqToTap-1)
		case c.ev&evTapSynAckSent != 0:
			h.sendCtl(idx, l2.TCPFlagSyn|l2.TCPFlagAck, c.seqToTap-1)
		}
	case tmAck:
		if c.retrans >= maxRetrans {
			h.resetBoth(idx)
			return
		}
		c.retrans++
		h.counts.Timeouts++
		h.rewind(c)
		c.ackSince = now
		if c.wndFromTap == 0 {
			h.probe(idx, now)
		} else {
			h.sockToTap(idx, now)
		}
	case tmAckDue:
		h.sendAck(idx, now)
	case tmProbe:
		c.ackSince = now
		h.probe(idx, now)
	case tmFin, tmActivity:
		h.resetBoth(idx)
	}
}

// probe sends one byte past the guest's zero window (RFC 9293 section
// 3.8.6.1), so that its answer tells us when the window opens.
func (h *Handler) probe(idx int, now int64) {
	c := &h.tab.conns[idx]
	c.wndFromTap = c.inFlight() + 1
	h.sockToTap(idx, now)
	c.wndFromTap = 0
}
