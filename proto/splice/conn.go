// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/policy"
)

// events records what has happened to a connection; the state is implied
// by the events seen. See "Events and states" in doc.go. Zero marks a free
// slot.
type events uint16

const (
	evConnecting  events = 1 << iota // accepted, host socket connecting
	evEstablished                    // host connected, pipes made
	evFinRcvd0                       // EOF read from side 0 (namespace)
	evFinRcvd1                       // EOF read from side 1 (host)
	evFinSent0                       // shutdown(SHUT_WR) done on side 0
	evFinSent1                       // shutdown(SHUT_WR) done on side 1
	evOutWait0                       // pipe towards side 0 stuck: EPOLLOUT on side 0
	evOutWait1                       // pipe towards side 1 stuck: EPOLLOUT on side 1
)

var eventNames = [...]string{
	"CONNECTING", "ESTABLISHED", "FIN_RCVD_0", "FIN_RCVD_1",
	"FIN_SENT_0", "FIN_SENT_1", "OUT_WAIT_0", "OUT_WAIT_1",
}

// String joins the names of the events set with '|'.
func (e events) String() string {
	if e == 0 {
		return "CLOSED"
	}
	var parts []string
	for i, n := range eventNames {
		if e&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "|")
}

// finRcvd, finSent and outWait return the per-side event bit.
func finRcvd(side int) events { return evFinRcvd0 << side }
func finSent(side int) events { return evFinSent0 << side }
func outWait(side int) events { return evOutWait0 << side }

// conn is one spliced connection: side 0 is the socket accepted inside the
// namespace, side 1 the socket connected on the host (for a connection
// from the host's loopback taken with Adopt, the other way round). Mirrors passt's
// struct tcp_splice_conn.
type conn struct {
	sock    [2]int32  // socket of each side; -1 once closed
	pipeR   [2]int32  // read end of the pipe carrying bytes from sock[i] to sock[1-i]
	pipeW   [2]int32  // write end of that pipe
	queued  [2]int    // bytes in pipe i not yet spliced to sock[1-i]
	polled  [2]uint32 // epoll interest set on sock[i]
	inEpoll [2]bool   // sock[i] is in the epoll set
	ev      events

	// Flow policy and audit (Config.Gate).
	gated  bool           // the gate let it open: Close it on close
	in     bool           // side 0 is on the host, side 1 in the namespace (Adopt)
	client netip.AddrPort // the namespace client's end
	host   netip.AddrPort // where the host side connects
	opened int64          // monotonic ns
	moved  [2]uint64      // bytes moved from side i to the other
}

// reset marks c free, with no file descriptors.
func (c *conn) reset() {
	*c = conn{sock: [2]int32{-1, -1}, pipeR: [2]int32{-1, -1}, pipeW: [2]int32{-1, -1}}
}

// want returns the epoll interest for sock[side] in the current state.
func (c *conn) want(side int) uint32 {
	if c.ev&evEstablished == 0 {
		if side == 1 {
			return unix.EPOLLOUT
		}
		return 0 // still told of EPOLLERR and EPOLLHUP
	}
	var ev uint32
	if c.ev&finRcvd(side) == 0 && c.ev&outWait(1-side) == 0 {
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if c.ev&outWait(side) != 0 {
		ev |= unix.EPOLLOUT
	}
	if c.ev&finSent(side) != 0 {
		// Its EPOLLHUP is now permanent: edge-triggered, it is told
		// once. What is left to read (the peer can only add its FIN)
		// is read in one go by relay, or after EPOLLOUT on the
		// other side.
		ev |= unix.EPOLLET
	}
	return ev
}

// done reports whether nothing more can happen on sock[side]: FIN both
// ways.
func (c *conn) done(side int) bool {
	m := finRcvd(side) | finSent(side)
	return c.ev&m == m
}

// updatePoll brings the epoll set in line with the connection's state.
func (h *Handler) updatePoll(idx int) {
	c := &h.conns[idx]
	for side := range 2 {
		fd := int(c.sock[side])
		if fd < 0 {
			continue
		}
		if c.done(side) {
			if c.inEpoll[side] {
				_ = h.poller.Del(fd)
				c.inEpoll[side] = false
			}
			continue
		}
		ev := c.want(side)
		switch {
		case !c.inEpoll[side]:
			if h.poller.Add(fd, ev, connRef(c, idx, side)) != nil {
				h.closeConn(idx, true)
				return
			}
			c.inEpoll[side] = true
		case c.polled[side] != ev:
			_ = h.poller.Mod(fd, ev, connRef(c, idx, side))
		}
		c.polled[side] = ev
	}
}

// established makes the pipes once the host socket is connected. false
// means the connection was aborted.
func (h *Handler) established(idx int) bool {
	c := &h.conns[idx]
	for side := range 2 {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			h.closeConn(idx, true)
			return false
		}
		c.pipeR[side], c.pipeW[side] = int32(p[0]), int32(p[1])
		// Failure (quota) leaves the default size: slower, still correct.
		_, _ = unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, h.pipeSize)
	}
	c.ev = c.ev&^evConnecting | evEstablished
	return true
}

// sockEvent handles events on sock[side] of connection idx. Mirrors
// tcp_splice_sock_handler() in passt.
func (h *Handler) sockEvent(idx, side int, events uint32) {
	c := &h.conns[idx]
	if events&unix.EPOLLERR != 0 {
		if c.ev&evConnecting != 0 {
			h.counts.ConnectFailed++
		} else if c.ev&finRcvd(side) == 0 {
			// Best effort, as a direct connection would: what the
			// resetting peer sent before its RST is still readable
			// and goes out before our reset. relay aborts once it
			// reads the error.
			h.relay(idx, side)
		}
		h.closeConn(idx, true) // no-op if relay aborted
		return
	}
	if c.ev&evConnecting != 0 {
		if side == 0 || events&unix.EPOLLOUT == 0 {
			// The client went away, or the connect failed without
			// EPOLLERR.
			h.closeConn(idx, true)
			return
		}
		if v, err := unix.GetsockoptInt(int(c.sock[1]), unix.SOL_SOCKET, unix.SO_ERROR); err != nil || v != 0 {
			h.counts.ConnectFailed++
			h.closeConn(idx, true)
			return
		}
		if !h.established(idx) {
			return
		}
		// Whatever the client sent while we connected.
		if !h.relay(idx, 0) {
			return
		}
		h.finish(idx)
		return
	}

	if events&unix.EPOLLOUT != 0 {
		// sock[side] can take more: drain the pipe towards it, then
		// read again from the other side.
		c.ev &^= outWait(side)
		if !h.relay(idx, 1-side) {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 && c.ev&finRcvd(side) == 0 {
		if !h.relay(idx, side) {
			return
		}
	}
	if events&unix.EPOLLHUP != 0 && c.ev&finSent(side) == 0 {
		// Closed both ways without our FIN: the socket was reset.
		h.closeConn(idx, true)
		return
	}
	h.finish(idx)
}

// finish propagates FINs whose pipes have drained, closes the connection
// when both sides are done, and updates epoll otherwise.
func (h *Handler) finish(idx int) {
	c := &h.conns[idx]
	for from := range 2 {
		to := 1 - from
		if c.ev&finRcvd(from) != 0 && c.queued[from] == 0 && c.ev&finSent(to) == 0 {
			if unix.Shutdown(int(c.sock[to]), unix.SHUT_WR) != nil {
				h.closeConn(idx, true)
				return
			}
			c.ev |= finSent(to)
		}
	}
	if c.ev&(evFinSent0|evFinSent1) == evFinSent0|evFinSent1 {
		h.closeConn(idx, false)
		return
	}
	h.updatePoll(idx)
}

// relay moves bytes from sock[from] through pipe[from] to sock[1-from]:
// first what the pipe holds, then what the socket has, up to maxRounds
// pipe-fulls, and no further read after one that took less than it asked
// for while EPOLLIN is level-triggered. It sets outWait when the
// receiving socket is full. false means the connection was aborted. No
// allocation.
func (h *Handler) relay(idx, from int) bool {
	c := &h.conns[idx]
	to := 1 - from
	in, out := int(c.sock[from]), int(c.sock[to])
	pr, pw := int(c.pipeR[from]), int(c.pipeW[from])
	moved := 0
	rounds := maxRounds
	level := true // EPOLLIN on in is level-triggered
	if c.ev&finSent(from) != 0 {
		// Edge-triggered (see want): read until EAGAIN or EOF. The
		// peer has received our FIN and can only send what it had.
		rounds, level = maxRoundsAfterFin, false
	}
	short := false // the last read took less than it asked for
	for range rounds {
		if c.queued[from] > 0 {
			n, e := splice(pr, out, c.queued[from], unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			switch e {
			case 0:
				c.queued[from] -= n
				moved += n
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				c.ev |= outWait(to)
				h.count(c, from, moved)
				return true
			default: // EPIPE, ECONNRESET: the receiver reset
				h.count(c, from, moved)
				h.closeConn(idx, true)
				return false
			}
		}
		if c.ev&finRcvd(from) != 0 || c.queued[from] >= h.pipeSize || short {
			if c.queued[from] == 0 {
				break
			}
			continue
		}
		want := h.pipeSize - c.queued[from]
		n, e := splice(in, pw, want, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch e {
		case 0:
			if n == 0 {
				c.ev |= finRcvd(from)
			}
			c.queued[from] += n
			// A short, small read found the socket empty (or the
			// pipe's slots full): once the pipe is drained,
			// level-triggered epoll says whether there is more,
			// which saves the read that would only return EAGAIN
			// (one system call in three per message of a
			// request/response exchange). After a large read the
			// sender is streaming and more is likely there by the
			// time the pipe is drained: read again, and go back to
			// epoll only when the socket is empty or the rounds are
			// spent (a wake-up per read costs an epoll_pwait and a
			// turn of the loop for every few hundred KiB).
			short = level && n > 0 && n < want && n < streamRead
		case unix.EINTR:
		case unix.EAGAIN:
			// Socket empty, or pipe full: drain, or stop.
			if c.queued[from] == 0 {
				h.count(c, from, moved)
				return true
			}
		default: // ECONNRESET: the sender reset
			h.count(c, from, moved)
			h.closeConn(idx, true)
			return false
		}
	}
	if c.queued[from] > 0 {
		// Out of rounds with bytes left: come back when out is writable.
		c.ev |= outWait(to)
	}
	h.count(c, from, moved)
	return true
}

// count adds n bytes moved from side from to the statistics.
func (h *Handler) count(c *conn, from, n int) {
	c.moved[from] += uint64(n)
	if (from == 0) != c.in {
		h.counts.BytesToHost += uint64(n)
	} else {
		h.counts.BytesToNs += uint64(n)
	}
}

// closeConn closes the connection's descriptors, with a reset on both
// sockets if abort; the slot is reclaimed by compact.
func (h *Handler) closeConn(idx int, abort bool) {
	c := &h.conns[idx]
	if c.ev == 0 {
		return
	}
	if h.trace {
		h.log.Debug("splice: close", "idx", idx, "events", c.ev.String(), "abort", abort)
	}
	if abort {
		h.counts.Aborted++
	} else {
		h.counts.Closed++
	}
	for side := range 2 {
		if fd := int(c.sock[side]); fd >= 0 {
			if c.inEpoll[side] {
				_ = h.poller.Del(fd)
			}
			if abort {
				closeReset(fd)
			} else {
				unix.Close(fd)
			}
		}
		if c.pipeR[side] >= 0 {
			unix.Close(int(c.pipeR[side]))
			unix.Close(int(c.pipeW[side]))
		}
	}
	if c.gated {
		h.gate.Close(policy.ProtoTCP, audit.Outbound, c.client, c.host, c.opened, h.now, c.moved[0], c.moved[1])
	}
	c.reset()
	h.live--
	h.liveAny.Store(int64(h.live))
	h.closed = append(h.closed, idx)
}
