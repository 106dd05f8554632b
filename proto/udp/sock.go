// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
)

// HandleSock handles a ready flow socket (flow.KindUDP) or listener
// (flow.KindUDPListen). Mirrors udp_sock_handler() and
// udp_listen_sock_handler() in passt udp.c.
func (h *Handler) HandleSock(ref flow.Ref, events uint32, now int64) {
	h.now = now
	switch ref.Kind {
	case flow.KindUDP:
		idx := int(ref.Index)
		if idx >= h.tbl.Len() || h.tbl.At(idx).fd != ref.Fd {
			return // stale event for a flow that has gone or moved
		}
		if events&unix.EPOLLERR != 0 {
			h.readErrQueue(idx)
		}
		if h.tbl.At(idx).typ == flowSplice {
			h.spliceReply(idx, now)
		} else {
			h.flowToTap(idx, now)
		}
	case flow.KindUDPListen:
		i := int(ref.Index)
		if i >= len(h.lst) || h.lst[i].fd != ref.Fd {
			return
		}
		if h.lst[i].ns {
			h.nsListen(i, now)
		} else {
			h.listenToTap(i, now)
		}
	}
}

// recvBatch reads up to len(h.bufs)-h.used datagrams from fd with one
// recvmmsg(2), each into a free frame buffer at off (limited to maxLen
// bytes), with the source address in h.rname if names is set. It returns
// how many were read; ok is false when the socket is drained or failed.
func (h *Handler) recvBatch(fd int, off, maxLen int, names bool) (n int, ok bool) {
	free := len(h.bufs) - h.used
	if free == 0 {
		h.st.BufferFull++
		return 0, false
	}
	for i := range free {
		var sa *sockaddr
		if names {
			sa = &h.rname[i]
		}
		setMsg(&h.rmsg[i].Hdr, &h.riov[i], h.bufs[h.used+i][off:off+maxLen], sa, unix.SizeofSockaddrInet6)
		h.rmsg[i].Len = 0
	}
	n, e := recvmmsg(fd, h.rmsg[:free])
	switch {
	case e == unix.EAGAIN:
		return 0, false
	case e != 0:
		// A pending socket error (e.g. ECONNREFUSED) is reported,
		// and cleared, by this call.
		h.drop(DropRecv)
		return 0, false
	}
	return n, n == free
}

// send hands frames h.out[:k] to the tap and clears the references.
func (h *Handler) send(k int) {
	if k == 0 {
		return
	}
	h.tap.Send(h.out[:k])
	clear(h.out[:k])
}

// flowToTap reads datagrams from a flow's own socket and sends them to
// the guest from the address and port it sent to.
func (h *Handler) flowToTap(idx int, now int64) {
	fl := h.tbl.At(idx)
	off, maxLen := hdr4, maxPayload4
	if fl.key.v6 {
		off, maxLen = hdr6, maxPayload6
	}
	for range maxRecvPerEvent {
		n, more := h.recvBatch(int(fl.fd), off, maxLen, false)
		for i := range n {
			buf := h.bufs[h.used+i]
			h.out[i] = h.frame(buf, off, fl.key.v6, &fl.key.b, fl.key.bPort, &fl.key.a, fl.key.aPort, int(h.rmsg[i].Len))
			fl.toGuest += uint64(h.rmsg[i].Len)
		}
		h.used += n
		h.send(n)
		if n > 0 {
			fl.lastActive = now
			fl.seen |= seenToGuest
			h.st.ToGuest += uint64(n)
		}
		if !more {
			return
		}
	}
}

// listenToTap reads datagrams from a -u listener and sends each to the
// guest, from the client's address (as GuestSource maps it) and port, to
// the guest's address (or the rule's) and the target port, opening a flow
// for a new client.
func (h *Handler) listenToTap(i int, now int64) {
	for range maxRecvPerEvent {
		l := &h.lst[i]
		// Receive behind room for IPv6 headers: the family of each
		// datagram is known only after (dual-stack sockets).
		n, more := h.recvBatch(int(l.fd), hdr6, maxPayload6, true)
		k := 0
		for j := range n {
			if h.spliceLo && !l.toAddr.IsValid() && loopbackClient(&h.rname[j]) {
				h.spliceOne(i, j, hdr6, now)
				continue
			}
			if idx := h.inbound(i, &h.rname[j], now); idx >= 0 {
				fl := h.tbl.At(idx)
				h.out[k] = h.frame(h.bufs[h.used+j], hdr6, fl.key.v6, &fl.key.b, fl.key.bPort,
					&fl.key.a, fl.key.aPort, int(h.rmsg[j].Len))
				fl.toGuest += uint64(h.rmsg[j].Len)
				k++
			}
		}
		h.used += n
		h.send(k)
		h.st.ToGuest += uint64(k)
		if !more {
			return
		}
	}
}

// inbound finds or opens the flow for a datagram from client sa to
// listener i and returns its index, or -1 (counted).
func (h *Handler) inbound(i int, sa *sockaddr, now int64) int {
	l := &h.lst[i]
	sv6, caddr, cport, ok := getSockaddr(sa)
	client := flow.BytesAddr(&caddr, sv6).Unmap()
	// A client on the guest's own address (pasta copies the host's) or
	// an unmapped loopback one appears from MapHostLo or the gateway,
	// so that the guest's replies come back to us (passt's nat_inbound()).
	src := fwd.InboundSource(h.n, client)
	if !ok || cport == 0 || !src.IsValid() || src.IsLoopback() || src.IsUnspecified() {
		h.drop(DropUnmapped)
		return -1
	}
	v6 := src.Is6()
	dst := l.toAddr
	if !dst.IsValid() {
		dst = h.guestAddr(v6)
	}
	if !dst.IsValid() || dst.Is6() != v6 {
		h.drop(DropUnmapped)
		return -1
	}
	k := flowKey{v6: v6, aPort: l.toPort, bPort: cport, a: flow.AddrBytes(dst), b: flow.AddrBytes(src)}
	idx, hash := h.tbl.lookup(&k)
	if idx < 0 {
		if h.tbl.Full() {
			h.drop(DropTableFull)
			return -1
		}
		// Not egress: the gate only logs it (and never refuses it).
		gated := h.gate.Open(policy.ProtoUDP, audit.Inbound, netip.AddrPortFrom(dst, l.toPort), netip.AddrPortFrom(client, cport), now)
		idx = h.tbl.Add(&udpFlow{key: k, typ: flowIn, fd: -1, lst: int32(i), peer: caddr, peerPort: cport,
			gated: gated, host: flow.AddrBytes(client), hostPort: cport, host6: client.Is6(), opened: now}, hash)
		h.st.FlowsOpened++
	}
	fl := h.tbl.At(idx)
	fl.lastActive = now
	fl.seen |= seenToGuest
	return idx
}

// nsListen reads datagrams from a -U listener inside the namespace and
// sends each through its flow's socket to the host's loopback.
func (h *Handler) nsListen(i int, now int64) {
	for range maxRecvPerEvent {
		fd := int(h.lst[i].fd)
		n, more := h.recvBatch(fd, 0, maxPayload6, true)
		for j := range n {
			h.spliceOne(i, j, 0, now)
		}
		// The buffers were only borrowed: nothing went to the tap.
		if !more {
			return
		}
	}
}

// spliceOne sends datagram j of the batch just read from listener i (at
// off in its buffer) through its splice flow's socket.
func (h *Handler) spliceOne(i, j, off int, now int64) {
	idx := h.splice(i, &h.rname[j], now)
	if idx < 0 {
		return
	}
	if !sendConnected(int(h.tbl.At(idx).fd), h.bufs[h.used+j][off:off+int(h.rmsg[j].Len)]) {
		h.drop(DropSend)
		return
	}
	h.tbl.At(idx).fromGuest += uint64(h.rmsg[j].Len)
	h.st.Spliced++
}

// loopbackClient reports whether sa is a loopback address (v4-mapped
// included).
func loopbackClient(sa *sockaddr) bool {
	v6, a, _, ok := getSockaddr(sa)
	return ok && flow.BytesAddr(&a, v6).Unmap().IsLoopback()
}

// splice finds or opens the flow for a datagram from client sa to
// listener i, spliced: for a -U listener a socket in the host's namespace
// connect()ed to the rule's address (the loopback by default) and target
// port; for a -u listener (a client on the host's loopback) a socket
// inside the namespace connect()ed to fwd.SpliceDestination.
func (h *Handler) splice(i int, sa *sockaddr, now int64) int {
	sv6, caddr, cport, ok := getSockaddr(sa)
	if !ok || cport == 0 {
		h.drop(DropInvalid)
		return -1
	}
	k := flowKey{ns: true, v6: sv6, aPort: cport, a: caddr}
	binary.BigEndian.PutUint32(k.b[:], uint32(i))
	idx, hash := h.tbl.lookup(&k)
	if idx < 0 {
		if idx = h.openSplice(&k, hash, i, netip.AddrPortFrom(flow.BytesAddr(&caddr, sv6).Unmap(), cport)); idx < 0 {
			return -1
		}
	}
	fl := h.tbl.At(idx)
	fl.lastActive = now
	fl.seen |= seenFromGuest
	return idx
}

// openSplice opens the socket of a splice flow: for a -U listener in the
// host's namespace, for a -u one (host loopback client) inside the
// guest's. The namespace sending to the host is egress: the flow policy
// checks the destination, and a refused datagram is dropped and counted
// (the client is a socket in the namespace, not a frame we could
// answer). The host's loopback sending into the namespace is not.
func (h *Handler) openSplice(k *flowKey, hash uint64, i int, client netip.AddrPort) int {
	if h.tbl.Full() {
		h.drop(DropTableFull)
		return -1
	}
	l := &h.lst[i]
	to := l.toAddr
	switch {
	case to.IsValid():
	case !l.ns:
		to = fwd.SpliceDestination(h.n, h.loToLo, client.Addr().Is6())
	default:
		to = fwd.Loopback(client.Addr().Is6())
	}
	hostEnd := netip.AddrPortFrom(to.Unmap(), l.toPort)
	gated := l.ns
	if gated && !h.gate.Open(policy.ProtoUDP, audit.Outbound, client, hostEnd, h.now) {
		h.drop(DropRefused)
		return -1
	}
	closeGate := func() {
		if gated {
			h.gate.Close(policy.ProtoUDP, audit.Outbound, client, hostEnd, h.now, h.now, 0, 0)
		}
	}
	v6 := to.Is6()
	var fd int
	var err error
	if l.ns {
		fd, err = h.socket(v6)
	} else {
		fd, err = h.nsFlowSocket(v6)
	}
	if err != nil {
		closeGate()
		h.drop(DropSocket)
		return -1
	}
	setBufs(fd)
	addr := flow.AddrBytes(to)
	salen := putSockaddr(&h.sa, v6, &addr, l.toPort)
	if e := connectRaw(fd, &h.sa, salen); e != 0 {
		unix.Close(fd)
		closeGate()
		h.drop(DropSocket)
		return -1
	}
	idx := h.tbl.Len()
	ref := flow.Ref{Kind: flow.KindUDP, Index: uint32(idx), Fd: int32(fd)}
	if err := h.poller.Add(fd, unix.EPOLLIN, ref); err != nil {
		unix.Close(fd)
		closeGate()
		h.drop(DropSocket)
		return -1
	}
	h.tbl.Add(&udpFlow{key: *k, typ: flowSplice, fd: int32(fd), lst: int32(i), peer: k.a, peerPort: k.aPort,
		gated: gated, host: addr, hostPort: l.toPort, host6: v6, opened: h.now}, hash)
	h.st.FlowsOpened++
	return idx
}

// spliceReply reads datagrams from a -U flow's host socket and sends
// them back to the namespace client through the listener.
func (h *Handler) spliceReply(idx int, now int64) {
	fl := h.tbl.At(idx)
	l := &h.lst[fl.lst]
	for range maxRecvPerEvent {
		n, more := h.recvBatch(int(fl.fd), 0, maxPayload6, false)
		if n == 0 {
			return
		}
		for j := range n {
			m := &h.rmsg[j].Hdr
			h.riov[j].SetLen(int(h.rmsg[j].Len))
			salen := putSockaddr(&h.rname[j], l.v6, &fl.peer, fl.peerPort)
			setMsg(m, &h.riov[j], h.bufs[h.used+j][:h.rmsg[j].Len], &h.rname[j], salen)
		}
		sent := 0
		for tries := 0; sent < n && tries < 2*n; tries++ {
			r, e := sendmmsg(int(l.fd), h.rmsg[sent:n])
			if e != 0 {
				h.drop(DropSend)
				sent++
				continue
			}
			for _, m := range h.rmsg[sent : sent+r] {
				fl.toGuest += uint64(m.Hdr.Iov.Len)
			}
			sent += r
			h.st.Spliced += uint64(r)
		}
		fl.lastActive = now
		fl.seen |= seenToGuest
		if !more {
			return
		}
	}
}

// sendConnected sends b on a connected socket, once more if the first
// attempt only reported an error left pending by an ICMP error.
func sendConnected(fd int, b []byte) bool {
	e := sendto(fd, b, nil, 0)
	if e != 0 && asyncError(e) {
		e = sendto(fd, b, nil, 0)
	}
	return e == 0
}

// guestAddr is the guest's address of one family.
func (h *Handler) guestAddr(v6 bool) netip.Addr {
	if v6 {
		return h.n.V6.Addr
	}
	return h.n.V4.Addr
}
