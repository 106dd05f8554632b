// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"bytes"
	"math"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// The socket side: listening sockets, connection set-up on the host, and
// data from host sockets to the guest. Mirrors tcp_sock_handler() and
// tcp_data_from_sock() in passt tcp.c.

// HandleSock handles an epoll event on a listening socket or a
// connection's socket.
func (h *Handler) HandleSock(ref flow.Ref, events uint32, now int64) {
	switch ref.Kind {
	case flow.KindTCPListen:
		if int(ref.Index) < len(h.listeners) {
			h.accept(int(ref.Index), now)
		}
	case flow.KindTCP:
		idx := int(ref.Index)
		if idx >= h.tab.n {
			return
		}
		c := &h.tab.conns[idx]
		if c.ev == 0 || c.sock != int(ref.Fd) {
			return // closed earlier in this wake-up
		}
		h.sockEvent(idx, events, now)
	}
}

func (h *Handler) sockEvent(idx int, events uint32, now int64) {
	c := &h.tab.conns[idx]
	c.lastAct = now
	defer h.markDirty(idx)
	if c.ev&evTapSynRcvd != 0 && c.ev&evTapSynAckSent == 0 {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			h.connected(idx, now)
		}
		return
	}
	if events&unix.EPOLLERR != 0 {
		h.resetBoth(idx)
		return
	}
	if events&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		c.ev |= evSockFinRcvd
		c.fl |= flSockReadable
	}
	if events&unix.EPOLLIN != 0 {
		c.fl |= flSockReadable
	}
	if events&unix.EPOLLOUT != 0 {
		c.fl |= flAckToTapDue // window update
	}
	if c.established() {
		h.sockToTap(idx, now)
	}
}

// resetBoth sends RST to the guest and closes the socket with a reset.
func (h *Handler) resetBoth(idx int) {
	c := &h.tab.conns[idx]
	if c.ev&(evSockAccepted) == 0 || c.ev&evEstablished != 0 {
		h.sendCtl(idx, l2.TCPFlagRst|l2.TCPFlagAck, c.seqToTap)
	} else {
		h.sendCtl(idx, l2.TCPFlagRst, c.seqToTap)
	}
	h.closeConn(idx, true)
}

// connected completes a connect() started for a guest's SYN: SYN+ACK to
// the guest, or RST if the connection failed.
func (h *Handler) connected(idx int, now int64) {
	c := &h.tab.conns[idx]
	if getsockoptInt(c.sock, unix.SOL_SOCKET, unix.SO_ERROR, &h.scratch) != 0 || h.scratch != 0 {
		if h.trace {
			h.log.Debug("tcp: connect failed", "local", c.local, "peer", c.peer, "errno", unix.Errno(h.scratch))
		}
		h.counts.Refused++
		h.sendCtl(idx, l2.TCPFlagRst|l2.TCPFlagAck, 0)
		h.closeConn(idx, false)
		return
	}
	h.setPollOut(idx, false)
	c.wndToTap = max(h.windowToTap(c), initialWindow)
	h.sendCtl(idx, l2.TCPFlagSyn|l2.TCPFlagAck, c.seqToTap-1)
	c.ev |= evTapSynAckSent
	c.ackSince = now
}

// setupSocket applies the options every host socket gets: a large send
// buffer (so that the window we give the guest is large, see windowToTap),
// no Nagle (the guest did its own), and a peek offset.
func (h *Handler) setupSocket(fd int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sndbufWanted) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sndbufWanted)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if h.peekOff {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0)
	}
}

// pacedCC are congestion controls that pace internally (without the fq
// qdisc) and that a local peer is better without; see localCC.
var pacedCC = [...]string{"bbr", "bbr2", "bbr3"}

// localCC switches a socket whose peer is on this host (loopback, or the
// host's own address: the traffic crosses the loopback device) from an
// internally pacing congestion control to reno, which every user may set.
// With BBR, the pacing timer sends part of the segments from softirq on
// another CPU, while our send() sends the rest from the event loop: the
// loopback device then reorders them, the peer sends duplicate ACKs, and
// the spurious retransmissions and the queue they leave in the send
// buffer (which bounds the window we give the guest) cost about 40% of
// the namespace → host throughput. Measured: 4.2-5.8 Gbit/s with bbr,
// 7.3-9.2 with reno (iperf3, MTU 65520). Other sockets keep the host's
// choice.
func (h *Handler) localCC(fd int, peer netip.Addr) {
	peer = peer.Unmap()
	if !peer.IsLoopback() && peer != h.net.V4.HostAddr && peer != h.net.V6.HostAddr {
		return
	}
	n, e := getsockoptBytes(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, h.ccBuf[:])
	if e != 0 {
		return
	}
	cur := h.ccBuf[:n]
	if i := bytes.IndexByte(cur, 0); i >= 0 {
		cur = cur[:i]
	}
	for _, p := range pacedCC {
		if string(cur) == p {
			_ = setsockoptBytes(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, renoCC[:])
			return
		}
	}
}

// renoCC is the name of the congestion control localCC sets.
var renoCC = [...]byte{'r', 'e', 'n', 'o'}

// maxAcceptBatch bounds the connections accepted per event.
const maxAcceptBatch = 64

// accept takes pending connections from listener li and sends a SYN to the
// guest for each, from the client's address (as the guest sees it) and
// port. Mirrors tcp_listen_handler() in passt tcp.c.
func (h *Handler) accept(li int, now int64) {
	l := &h.listeners[li]
	for range maxAcceptBatch {
		fd, e := fwd.Accept(l.fd, &h.rsa)
		if e == unix.EAGAIN || e == unix.EINTR {
			return
		}
		if e != 0 {
			if e == unix.ECONNABORTED || e == unix.EPERM {
				continue
			}
			return
		}
		src, ok := fwd.RawAddrPort(&h.rsa)
		if ok && h.splice != nil && src.Addr().IsLoopback() && !l.toAddr.IsValid() {
			// pasta: a client on the host's loopback goes to the
			// namespace over its loopback interface, as passt's
			// fwd_nat_from_host() (PIF_SPLICE). The splicer owns fd.
			dst := fwd.SpliceDestination(h.net, h.loToLo, src.Addr().Is6())
			h.splice.Adopt(fd, netip.AddrPortFrom(dst, l.toPort))
			continue
		}
		if !ok || !h.inbound(fd, src.Addr(), src.Addr().Is4(), src.Port(), l, now) {
			unix.Close(fd)
		}
	}
}

// inbound sets up a connection accepted on a listener; false means refuse.
func (h *Handler) inbound(fd int, src netip.Addr, v4 bool, port uint16, l *listener, now int64) bool {
	v4 = v4 || src.Is4()
	var gaddr netip.Addr
	switch {
	case l.toAddr.IsValid() && l.toAddr.Is4() == v4:
		gaddr = l.toAddr
	case v4 && h.net.HasV4():
		gaddr = h.net.V4.Addr
	case !v4 && h.net.HasV6():
		gaddr = h.net.V6.Addr
	default:
		return false
	}
	// A client on the host's own address, which the guest also has
	// (pasta copies it), or on its loopback with nothing mapped to it,
	// appears from the mapped host loopback or the gateway, as passt.
	remote := fwd.InboundSource(h.net, src)
	if !remote.IsValid() || remote.Is4() != v4 || remote.IsLoopback() || remote == gaddr {
		return false
	}
	local := netip.AddrPortFrom(gaddr, l.toPort)
	peer := netip.AddrPortFrom(remote, port)
	if h.tab.lookup(local, peer) >= 0 {
		return false
	}
	idx := h.addConn(local, peer)
	if idx < 0 {
		h.counts.TableFull++
		h.counts.Refused++
		return false
	}
	h.counts.Opens++
	c := &h.tab.conns[idx]
	c.sock = fd
	c.v6 = !v4
	// Not egress: the gate only logs it (and never refuses it).
	c.host = netip.AddrPortFrom(src, port)
	c.gated = h.gate.Open(policy.ProtoTCP, audit.Inbound, local, c.host, now)
	c.inbound = true
	if !h.initTemplate(c) {
		c.sock = -1
		h.closeConn(idx, false)
		return false
	}
	h.setupSocket(fd)
	h.localCC(fd, src)
	c.created, c.lastAct, c.ackSince = now, now, now
	c.setOpening(evSockAccepted)
	c.wsToTap = wsToTap
	c.mssToTap = defaultMSS
	isn := h.isn(local, peer, now)
	c.seqToTap, c.seqAckFromTap, c.seqMaxToTap = isn+1, isn+1, isn+1
	c.wndToTap = max(h.windowToTap(c), initialWindow)
	if err := h.poller.Add(fd, h.sockEvents(c), h.ref(c, idx)); err != nil {
		c.sock = -1
		h.closeConn(idx, false)
		return false
	}
	h.sendCtl(idx, l2.TCPFlagSyn, isn)
	h.markDirty(idx)
	if h.trace {
		h.log.Debug("tcp: accepted", "idx", idx, "local", local, "peer", peer)
	}
	return true
}

// initTemplate builds the frame headers towards the guest.
func (h *Handler) initTemplate(c *conn) bool {
	return c.tmpl.Init(&l2.TCPSegment{
		Link: l2.Link{SrcMAC: [6]byte(h.net.OurMAC), DstMAC: [6]byte(h.net.GuestMAC)},
		Src:  c.peer,
		Dst:  c.local,
	})
}

// sockToTap sends data queued on the socket past what the guest already
// has, within the guest's window, peeking it into frame buffers, or
// straight into the guest's receive buffers where the tap lends them
// (flow.Lender, vhost-user: sendLent); at EOF it sends FIN. When the
// frames of this wake-up run out, it flushes the tap (flow.Flusher) and
// goes on with the same buffers, up to maxPeeks batches; only if the
// device is full, or the bound is reached, does the connection wait for
// the next wake-up (flPending). Mirrors tcp_data_from_sock() in passt
// tcp.c (and tcp_vu_data_from_sock() in tcp_vu.c).
func (h *Handler) sockToTap(idx int, now int64) {
	c := &h.tab.conns[idx]
	if h.wq.cnt > 0 && c.fl&flSockReadable != 0 && c.ev&evTapFinSent == 0 {
		// Data frames carry our ACK: only what the socket took.
		h.flushWrites()
		if c.ev == 0 {
			return
		}
	}
	for range maxPeeks {
		if c.ev&evTapFinSent != 0 || c.fl&flSockReadable == 0 {
			return
		}
		inflight := c.inFlight()
		wnd := c.wndFromTap
		if !h.peekOff {
			wnd = min(wnd, discardWindow)
			if inflight > discardWindow/2 {
				wnd = inflight // wait for the guest's ACK
			}
		}
		if inflight >= wnd {
			c.fl |= flStalled
			return
		}
		c.fl &^= flStalled
		room := wnd - inflight
		mss := h.payloadPerFrame(c)
		if h.roomer != nil {
			// The guest's receive buffers (vhost-user): what does not fit
			// stays in the socket until the guest makes room, rather
			// than being held back, copied, by the device.
			r := h.roomer.Room() - c.tmpl.HeaderLen()
			if r < int(min(mss, room)) {
				h.setPending(c)
				return
			}
			room = min(room, uint32(min(r, math.MaxInt32)))
		}
		need := int((room + mss - 1) / mss)
		next := peekCopy
		if h.lender != nil && h.lender.Lending() {
			next = h.sendLent(idx, c, inflight, room, mss, need, now)
		}
		if next == peekCopy {
			next = h.sendCopied(idx, c, inflight, room, mss, need, now)
		}
		if next == peekStop {
			return
		}
	}
	// Bounded: the others get their turn; this one goes on next wake-up.
	h.setPending(c)
}

// peekNext is what sockToTap does after a batch.
type peekNext uint8

const (
	peekStop peekNext = iota // the connection is done for now
	peekMore                 // peek again
	peekCopy                 // nothing lent: peek into the frame buffers
)

// sendCopied peeks up to need frames of mss bytes (room in all) into the
// handler's frame buffers and sends them.
func (h *Handler) sendCopied(idx int, c *conn, inflight, room, mss uint32, need int, now int64) peekNext {
	if h.fr.freeData() == 0 && !h.flushFrames() {
		h.setPending(c)
		return peekStop
	}
	nf := min(need, h.fr.freeData())
	hl := c.tmpl.HeaderLen()
	iov := h.fr.iov[:0]
	if !h.peekOff && inflight > 0 {
		iov = append(iov, iovec(h.discardB[:inflight]))
	}
	want := uint32(0)
	for i := range nf {
		sz := min(mss, room-want)
		f := h.fr.dataFrame(i)
		iov = append(iov, iovec(f[hl:hl+int(sz)]))
		want += sz
	}
	got, ok := h.peek(idx, c, iov, inflight, now)
	if !ok {
		return peekStop
	}
	out := h.fr.out[:0]
	wnd := uint16(min(c.wndToTap>>c.wsToTap, 0xffff))
	seq := c.seqToTap
	for i, sent := 0, 0; sent < got; i++ {
		sz := min(int(mss), got-sent)
		fl := l2.TCPFlagAck
		if sent+sz == got {
			fl |= l2.TCPFlagPsh
		}
		f := h.fr.dataFrame(i)
		var n int
		if h.seg != nil {
			n = c.tmpl.WritePartial(f, uint32(seq), uint32(c.seqFromTap), fl, wnd, nil, sz)
		} else {
			n = c.tmpl.Write(f, uint32(seq), uint32(c.seqFromTap), fl, wnd, nil, sz)
		}
		out = append(out, f[:n])
		seq = seq.add(uint32(sz))
		sent += sz
	}
	h.fr.dataUsed += len(out)
	if h.seg != nil {
		h.seg.SendSegments(out, c.mssToTap)
	} else {
		h.tap.Send(out)
	}
	h.fr.out = out[:0]
	h.sent(c, seq, inflight, now)
	return h.afterPeek(c, uint32(got) == want, nf == need)
}

// peek reads what the socket holds into iov without taking it
// (MSG_PEEK), and returns the new bytes (past what is in flight). At
// EOF it sends FIN; ok false: nothing to send (EOF, nothing queued, an
// error that reset the connection).
func (h *Handler) peek(idx int, c *conn, iov []unix.Iovec, inflight uint32, now int64) (got int, ok bool) {
	got, e := recvmsgIov(c.sock, iov, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if e == unix.EAGAIN || e == unix.EINTR {
		c.fl &^= flSockReadable
		return 0, false
	}
	if e != 0 {
		h.resetBoth(idx)
		return 0, false
	}
	if !h.peekOff && got > 0 {
		if got <= int(inflight) {
			// Only bytes the guest already has: nothing new, and not
			// the end of file either, which a peek from the head
			// cannot see while bytes are in flight (a stale EPOLLIN
			// gets here). After RDHUP the socket stays readable, so
			// the peek after the guest's last ACK finds the end.
			if c.ev&evSockFinRcvd == 0 {
				c.fl &^= flSockReadable
			}
			return 0, false
		}
		got -= int(inflight)
	}
	if got > 0 {
		return got, true
	}
	// End of file: everything is peeked, FIN follows the data.
	c.fl &^= flSockReadable
	c.ev |= evSockFinRcvd
	if inflight == 0 {
		c.ackSince = now
	}
	c.seqFinToTap = c.seqToTap
	h.sendCtl(idx, l2.TCPFlagFin|l2.TCPFlagAck, c.seqToTap)
	c.ev |= evTapFinSent
	c.fl |= flFinQueued
	c.seqToTap++
	if c.seqToTap.gt(c.seqMaxToTap) {
		c.seqMaxToTap = c.seqToTap
	}
	return 0, false
}

// sent records data frames sent up to seq.
func (h *Handler) sent(c *conn, seq seqnum, inflight uint32, now int64) {
	c.seqAckToTap = c.seqFromTap
	if inflight == 0 {
		c.ackSince = now
	}
	c.seqToTap = seq
	if seq.gt(c.seqMaxToTap) {
		c.seqMaxToTap = seq
	}
}

// afterPeek says whether to peek again: filled, the peek filled every
// frame (more may be queued), and all, those frames covered the window.
func (h *Handler) afterPeek(c *conn, filled, all bool) peekNext {
	if filled {
		if all {
			return peekStop
		}
		return peekMore
	}
	// The queue is drained; at EOF, one more peek sends FIN.
	if c.ev&evSockFinRcvd == 0 {
		c.fl &^= flSockReadable
		return peekStop
	}
	return peekMore
}

// payloadPerFrame is the most payload sockToTap puts in one data frame:
// the guest's MSS, or, when the tap takes segments (flow.Segmenter), as
// many whole MSS-sized segments as fit in the largest IP packet it takes,
// which the guest's kernel sees as MSS-sized segments, whatever the MTU.
func (h *Handler) payloadPerFrame(c *conn) uint32 {
	mss := uint32(c.mssToTap)
	if h.seg == nil || mss == 0 {
		return mss
	}
	room := uint32(h.maxSeg - (c.tmpl.HeaderLen() - l2.EthernetSize))
	return max(room/mss*mss, mss)
}

// setPending makes the connection try again at the start of the next
// wake-up, when frames are free again.
func (h *Handler) setPending(c *conn) {
	if c.fl&flPending == 0 {
		c.fl |= flPending
		h.pending++
		h.counts.FramesShort++
	}
}

// flushFrames writes out the frames queued so far, if the tap allows it
// (flow.Flusher), so that this wake-up's frame buffers can be used again.
func (h *Handler) flushFrames() bool {
	if h.flusher == nil || !h.flusher.Flush() {
		return false
	}
	h.fr.reset()
	h.counts.Flushes++
	return true
}

// consume drops n acknowledged bytes from the head of the socket's receive
// queue. Mirrors tcp_sock_consume() in passt tcp.c.
func (h *Handler) consume(c *conn, n uint32) bool {
	for tries := 0; n > 0 && tries < 4; tries++ {
		r, e := discard(c.sock, int(n))
		if e != 0 || r <= 0 {
			return false
		}
		n -= uint32(r)
	}
	return n == 0
}

// rewind makes the next sockToTap resend from the guest's last ACK.
func (h *Handler) rewind(c *conn) {
	c.seqToTap = c.seqAckFromTap
	if c.ev&evTapFinSent != 0 && c.ev&evTapFinAcked == 0 {
		c.ev &^= evTapFinSent
	}
	if h.peekOff {
		_ = unix.SetsockoptInt(c.sock, unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0)
	}
	c.fl |= flSockReadable
	c.dupAcks = 0
}

// iovec points an iovec at b.
func iovec(b []byte) unix.Iovec {
	var v unix.Iovec
	if len(b) > 0 {
		v.Base = &b[0]
		v.SetLen(len(b))
	}
	return v
}
