// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// The tap side: segments from the guest. Mirrors tcp_tap_handler() and
// tcp_data_from_tap() in passt tcp.c.

// HandleTap implements flow.Handler: it handles one TCP segment from the
// guest. f must have been parsed without error; anything malformed is
// dropped and counted here, so every segment is accepted.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	if f.L4Proto != l2.ProtoTCP || f.IsFragment || f.Payload-f.L4 < l2.TCPMinSize || f.Payload > f.End {
		h.counts.BadSegments++
		return flow.Accept
	}
	t := f.TCP()
	payload := f.PayloadBytes()
	src := netip.AddrPortFrom(f.Src, t.SourcePort())
	dst := netip.AddrPortFrom(f.Dst, t.DestinationPort())
	idx := h.tab.lookup(src, dst)
	if idx < 0 {
		fl := t.Flags()
		switch {
		case fl&(l2.TCPFlagSyn|l2.TCPFlagAck|l2.TCPFlagRst) == l2.TCPFlagSyn:
			h.tapSyn(src, dst, t, now)
		case fl&l2.TCPFlagRst == 0:
			h.counts.NoConn++
			h.rstNoConn(src, dst, t, len(payload))
		}
		return flow.Accept
	}
	h.tapSegment(idx, t, payload, now)
	return flow.Accept
}

// tapSyn opens a host socket for a guest's SYN and starts connecting it.
// SYN+ACK follows when the connection is up (see connected). Mirrors
// tcp_conn_from_tap() in passt tcp.c.
func (h *Handler) tapSyn(src, dst netip.AddrPort, t l2.TCP, now int64) {
	da := dst.Addr()
	if dst.Port() == 0 || src.Port() == 0 || !da.IsValid() || da.IsUnspecified() || da.IsMulticast() ||
		(da.Is4() && da == netip.AddrFrom4([4]byte{255, 255, 255, 255})) || src.Addr().Is4() != da.Is4() {
		h.counts.BadSegments++
		return
	}
	hostAddr, hostPort := fwd.HostDestination(h.net, da, dst.Port(), false)
	if !hostAddr.IsValid() {
		h.counts.Refused++
		h.rstNoConn(src, dst, t, 0)
		return
	}
	// Egress policy, checked against the real destination. A refused SYN
	// gets a RST at once: connect() fails with ECONNREFUSED in
	// microseconds (see "What a refused guest sees" in package egress).
	host := netip.AddrPortFrom(hostAddr, hostPort)
	if !h.gate.Open(policy.ProtoTCP, audit.Outbound, src, host, now) {
		h.counts.Refused++
		h.counts.PolicyRefused++
		h.rstNoConn(src, dst, t, 0)
		return
	}
	idx := h.addConn(src, dst)
	if idx < 0 {
		h.gate.Close(policy.ProtoTCP, audit.Outbound, src, host, now, now, 0, 0)
		h.counts.TableFull++
		h.counts.Refused++
		h.rstNoConn(src, dst, t, 0)
		return
	}
	h.counts.Opens++
	c := &h.tab.conns[idx]
	c.gated, c.host = true, host
	c.v6 = !src.Addr().Is4()
	if !h.initTemplate(c) {
		h.closeConn(idx, false)
		return
	}
	opts, _ := l2.ParseTCPOptions(t.Options())
	mss := uint16(defaultMSS)
	if opts.HasMSS && opts.MSS > 0 {
		mss = opts.MSS
	}
	c.mssToTap = min(mss, h.mssToTap(c.v6))
	if opts.HasWS {
		c.wsFromTap, c.wsToTap = opts.WindowScale, wsToTap
	}
	c.wndFromTap = uint32(t.WindowSize())
	c.seqFromTap = seqnum(t.SequenceNumber()).add(1)
	c.seqAckToTap = c.seqFromTap
	isn := h.isn(src, dst, now)
	c.seqToTap, c.seqAckFromTap, c.seqMaxToTap = isn+1, isn+1, isn+1
	c.created, c.lastAct, c.ackSince = now, now, now
	c.setOpening(evTapSynRcvd)
	c.wndToTap = initialWindow

	domain := unix.AF_INET
	if !hostAddr.Is4() {
		domain = unix.AF_INET6
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		h.sendCtl(idx, l2.TCPFlagRst|l2.TCPFlagAck, 0)
		h.closeConn(idx, false)
		return
	}
	c.sock = fd
	fam := &h.net.V4
	if c.v6 {
		fam = &h.net.V6
	}
	if fwd.BindOutbound(fd, fam.OutboundIf, hostAddr) != 0 {
		h.sendCtl(idx, l2.TCPFlagRst|l2.TCPFlagAck, 0)
		h.closeConn(idx, false)
		return
	}
	h.setupSocket(fd)
	h.localCC(fd, hostAddr)
	if opts.HasMSS && opts.MSS >= minMSS && opts.MSS <= maxMSSOpt {
		// A larger MSS than TCP_MAXSEG takes (a guest at MTU 65520
		// says 65480) leaves the route's own: clamping it to 32767
		// would halve the segments of a loopback peer, whose MSS is
		// 65483, and with them its congestion window in bytes.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_MAXSEG, int(opts.MSS))
	}
	if o := fam.Outbound; o.IsValid() && o.Is4() == hostAddr.Is4() && !hostAddr.IsLoopback() {
		_ = unix.Bind(fd, sockaddr(netip.AddrPortFrom(o, 0)))
	}
	c.fl |= flPollOut
	if err := h.poller.Add(fd, h.sockEvents(c), h.ref(c, idx)); err != nil {
		h.sendCtl(idx, l2.TCPFlagRst|l2.TCPFlagAck, 0)
		h.closeConn(idx, false)
		return
	}
	if h.trace {
		h.log.Debug("tcp: connect", "idx", idx, "local", src, "peer", dst, "host", netip.AddrPortFrom(hostAddr, hostPort))
	}
	switch err := unix.Connect(fd, sockaddr(netip.AddrPortFrom(hostAddr, hostPort))); err {
	case nil:
		h.connected(idx, now)
	case unix.EINPROGRESS:
	default:
		h.sendCtl(idx, l2.TCPFlagRst|l2.TCPFlagAck, 0)
		h.closeConn(idx, false)
		return
	}
	h.markDirty(idx)
}

// sockaddr converts an address and port for connect and bind.
func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

// tapSegment handles a segment for an existing connection.
func (h *Handler) tapSegment(idx int, t l2.TCP, payload []byte, now int64) {
	c := &h.tab.conns[idx]
	fl := t.Flags()
	seq, ack := seqnum(t.SequenceNumber()), seqnum(t.AckNumber())
	c.lastAct = now
	h.markDirty(idx)

	if fl&l2.TCPFlagRst != 0 {
		// Accept a reset within the window (RFC 9293 3.10.7.4), or, for
		// our SYN, one that acknowledges it.
		ok := seq.inWindow(c.seqFromTap, max(c.wndToTap, 1))
		if c.ev&evSockAccepted != 0 {
			ok = fl&l2.TCPFlagAck != 0 && ack == c.seqToTap
		}
		if ok {
			h.closeConn(idx, true)
		}
		return
	}
	if c.ev&evSockAccepted != 0 {
		if fl&(l2.TCPFlagSyn|l2.TCPFlagAck) == l2.TCPFlagSyn|l2.TCPFlagAck && ack == c.seqToTap {
			h.tapSynAck(idx, t, now)
		}
		return
	}
	if fl&l2.TCPFlagSyn != 0 {
		if c.ev&evTapSynAckSent != 0 && seq.add(1) == c.seqFromTap && !c.established() {
			h.sendCtl(idx, l2.TCPFlagSyn|l2.TCPFlagAck, c.seqToTap-1) // retransmitted SYN
		}
		return
	}
	if fl&l2.TCPFlagAck == 0 {
		return
	}
	if c.ev&evTapSynRcvd != 0 {
		if c.ev&evTapSynAckSent == 0 || ack != c.seqToTap {
			return
		}
		c.setOpening(evEstablished)
		c.wndFromTap = uint32(t.WindowSize()) << c.wsFromTap
		c.fl |= flSockReadable
	}
	fin := fl&l2.TCPFlagFin != 0
	h.tapAck(idx, ack, uint32(t.WindowSize())<<c.wsFromTap, len(payload) == 0 && !fin, now)
	if c.ev == 0 {
		return
	}
	if len(payload) > 0 || fin {
		h.tapData(idx, seq, payload, fin)
		if c.ev == 0 {
			return
		}
	} else if seq.lt(c.seqFromTap) {
		// Below the window: a zero-window probe or a keep-alive
		// (seq = RCV.NXT-1). Answer it (RFC 9293 section 3.10.7.4):
		// the answer carries our window, and it is how the guest
		// learns of a window update we sent and the tap lost.
		h.ackNow(idx, true)
	}
	if c.ev&evTapFinRcvd != 0 && c.ev&evTapFinAcked != 0 {
		// Both directions are closed and acknowledged.
		if c.fl&flAckToTapDue != 0 {
			h.ackNow(idx, false)
		}
		h.closeConn(idx, false)
	}
}

// tapSynAck completes a connection we opened towards the guest (inbound).
func (h *Handler) tapSynAck(idx int, t l2.TCP, now int64) {
	c := &h.tab.conns[idx]
	opts, _ := l2.ParseTCPOptions(t.Options())
	mss := uint16(defaultMSS)
	if opts.HasMSS && opts.MSS > 0 {
		mss = opts.MSS
	}
	c.mssToTap = min(mss, h.mssToTap(c.v6))
	if opts.HasWS {
		c.wsFromTap = opts.WindowScale
	} else {
		c.wsFromTap, c.wsToTap = 0, 0
	}
	c.wndFromTap = uint32(t.WindowSize())
	c.seqFromTap = seqnum(t.SequenceNumber()).add(1)
	c.setOpening(evEstablished)
	c.ackSince = now
	c.wndToTap = h.windowToTap(c)
	h.ackNow(idx, true)
	c.fl |= flSockReadable
	h.sockToTap(idx, now)
}

// tapAck applies the guest's acknowledgment and window to the data we sent
// it: acknowledged bytes are dropped from the socket, duplicate ACKs make
// us resend, a wider window lets more data out. Mirrors
// tcp_update_seqack_from_tap() and tcp_sock_consume() in passt tcp.c.
func (h *Handler) tapAck(idx int, ack seqnum, wnd uint32, pure bool, now int64) {
	c := &h.tab.conns[idx]
	if ack.gt(c.seqMaxToTap) || ack.lt(c.seqAckFromTap) {
		return // acknowledges nothing we sent, or stale
	}
	if ack.gt(c.seqAckFromTap) {
		n := ack.sub(c.seqAckFromTap)
		if c.fl&flFinQueued != 0 && ack == c.seqFinToTap.add(1) {
			n--
			c.ev |= evTapFinAcked | evTapFinSent
		}
		if n > 0 && !h.consume(c, n) {
			h.resetBoth(idx)
			return
		}
		c.bytesToTap += uint64(n)
		c.seqAckFromTap = ack
		if c.seqToTap.lt(ack) {
			c.seqToTap = ack
		}
		c.retrans, c.dupAcks = 0, 0
		c.fl &^= flRecovering
		c.ackSince = now
	} else if pure && c.inFlight() > 0 {
		if wnd == 0 {
			c.retrans = 0 // the guest answers a zero-window probe
		} else if wnd == c.wndFromTap && c.fl&flRecovering == 0 {
			c.dupAcks++
			if c.dupAcks >= dupAckThreshold {
				h.counts.DupAckRewinds++
				h.rewind(c)
				c.fl |= flRecovering
			}
		}
	}
	c.wndFromTap = wnd
	if c.fl&flSockReadable != 0 {
		h.sockToTap(idx, now)
	}
}

// tapData writes in-sequence data from the guest to the socket. Data the
// socket does not take is not acknowledged (the guest sends it again); a
// segment ahead of the expected sequence gets an immediate duplicate ACK
// so the guest fast-retransmits (RFC 5681 section 3.2). Mirrors
// tcp_data_from_tap() in passt tcp.c, without its loss on short writes.
func (h *Handler) tapData(idx int, seq seqnum, payload []byte, fin bool) {
	c := &h.tab.conns[idx]
	h.gatherFor(idx)
	if c.ev == 0 {
		return
	}
	if c.ev&evTapFinRcvd != 0 {
		if fin || len(payload) > 0 {
			h.ackNow(idx, true)
		}
		return
	}
	if seq.gt(c.seqFromTap) {
		h.counts.OutOfOrder++
		h.ackNow(idx, true)
		return
	}
	end := seq.add(uint32(len(payload)))
	if end.lt(c.seqFromTap) || (end == c.seqFromTap && !fin) {
		h.ackNow(idx, true) // entirely old: a retransmission we already have
		return
	}
	data := payload[c.seqFromTap.sub(seq):]
	if len(data) > 0 {
		h.queueWrite(idx, data) // written at the batch's end, or before (writeq.go)
	}
	c.fl |= flAckToTapDue
	if fin {
		h.flushWrites()
		if c.ev == 0 || c.seqFromTap != end {
			return // reset, or a short write: the guest sends the rest, and the FIN, again
		}
		_ = unix.Shutdown(c.sock, unix.SHUT_WR)
		c.seqFromTap++
		c.ev |= evTapFinRcvd | evSockFinSent
		if c.ev&evSockFinRcvd == 0 {
			c.fl |= flActiveClose
		}
		h.ackNow(idx, false)
	}
}
