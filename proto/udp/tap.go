// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// HandleTap relays one UDP datagram from the guest. f must have been
// parsed without error; the engine gives every UDP datagram here except
// DHCP and DHCPv6. The datagram is copied to the staging area and sent
// with the other datagrams of the same flow that follow it, by one
// sendmmsg(2), at the latest in End. Mirrors udp_tap_handler() in passt
// udp.c. Drops are counted here: every datagram is accepted.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	h.handleTap(f, now)
	return flow.Accept
}

func (h *Handler) handleTap(f *l2.Frame, now int64) {
	var v6 bool
	switch {
	case h.n.NoUDP || f.L4Proto != l2.ProtoUDP || f.IsFragment:
		h.drop(DropInvalid)
		return
	case f.EtherType == l2.EtherTypeIPv4:
	case f.EtherType == l2.EtherTypeIPv6:
		v6 = true
	default:
		h.drop(DropInvalid)
		return
	}
	if f.End-f.L4 < l2.UDPSize || f.Src.Is6() != v6 || f.Dst.Is6() != v6 {
		h.drop(DropInvalid)
		return
	}
	u := f.UDP()
	sport, dport := u.SourcePort(), u.DestinationPort()
	if sport == 0 || dport == 0 || !validSource(f.Src) || !validDest(f.Dst) {
		h.drop(DropInvalid)
		return
	}
	k := flowKey{v6: v6, aPort: sport, bPort: dport, a: flow.AddrBytes(f.Src), b: flow.AddrBytes(f.Dst)}
	idx, hash := h.tbl.lookup(&k)
	h.now = now
	if idx < 0 {
		if idx = h.openOut(&k, hash, f); idx < 0 {
			return
		}
	}
	fl := h.tbl.At(idx)
	fl.lastActive = now
	fl.seen |= seenFromGuest
	payload := f.PayloadBytes()
	fl.fromGuest += uint64(len(payload))
	fl.lastLen = uint16(l2.UDPSize + len(payload))
	h.stageSend(idx, payload)
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// validSource reports whether src can receive replies.
func validSource(src netip.Addr) bool {
	return src.IsValid() && !src.Is4In6() && !src.IsUnspecified() && !src.IsMulticast() &&
		!src.IsLoopback() && src != broadcast4
}

// validDest reports whether the guest may send to dst: anything but the
// unspecified address, loopback (the guest's own) and the limited
// broadcast address. Multicast goes out as passt lets it.
func validDest(dst netip.Addr) bool {
	return dst.IsValid() && !dst.Is4In6() && !dst.IsUnspecified() && !dst.IsLoopback() && dst != broadcast4
}

// openOut opens a flow for a datagram from the guest: a socket bound to
// the outbound address (-o) and, if it is free, the guest's source port
// (passt preserves it), with IP_RECVERR, connect()ed to the destination
// mapped by HostDestination. The flow policy is checked against that
// real destination (for DNS, the resolver the query is forwarded to); a
// refused datagram is answered with ICMP "administratively prohibited".
// It returns the flow index, or -1 (counted).
func (h *Handler) openOut(k *flowKey, hash uint64, f *l2.Frame) int {
	dst := f.Dst
	if h.tbl.Full() {
		h.drop(DropTableFull)
		return -1
	}
	host, hostPort := h.mapper.HostDestination(dst, k.bPort, true)
	host = host.Unmap()
	if !host.IsValid() || host.Is6() != k.v6 || host.IsUnspecified() || hostPort == 0 ||
		(k.v6 && (host.IsLinkLocalUnicast() || host.IsLinkLocalMulticast())) || host == broadcast4 {
		h.drop(DropInvalid)
		return -1
	}
	guestEnd := netip.AddrPortFrom(f.Src, k.aPort)
	hostEnd := netip.AddrPortFrom(host, hostPort)
	if !h.gate.Open(policy.ProtoUDP, audit.Outbound, guestEnd, hostEnd, h.now) {
		h.drop(DropRefused)
		h.prohibited(f)
		return -1
	}
	gateClose := func() { h.gate.Close(policy.ProtoUDP, audit.Outbound, guestEnd, hostEnd, h.now, h.now, 0, 0) }
	fd, err := h.socket(k.v6)
	if err != nil {
		gateClose()
		h.drop(DropSocket)
		return -1
	}
	outIf := h.n.V4.OutboundIf
	if k.v6 {
		outIf = h.n.V6.OutboundIf
	}
	if fwd.BindOutbound(fd, outIf, host) != 0 || !h.prepareOut(fd, k.v6, k.aPort) {
		unix.Close(fd)
		gateClose()
		h.drop(DropSocket)
		return -1
	}
	hb := flow.AddrBytes(host)
	salen := putSockaddr(&h.sa, k.v6, &hb, hostPort)
	if e := connectRaw(fd, &h.sa, salen); e != 0 {
		unix.Close(fd)
		gateClose()
		h.drop(DropSocket)
		return -1
	}
	idx := h.tbl.Len()
	ref := flow.Ref{Kind: flow.KindUDP, Index: uint32(idx), Fd: int32(fd)}
	if err := h.poller.Add(fd, unix.EPOLLIN, ref); err != nil {
		unix.Close(fd)
		gateClose()
		h.drop(DropSocket)
		return -1
	}
	h.tbl.Add(&udpFlow{key: *k, typ: flowOut, fd: int32(fd), lst: -1, peer: hb, peerPort: hostPort,
		gated: true, host: hb, hostPort: hostPort, host6: k.v6, opened: h.now}, hash)
	h.st.FlowsOpened++
	return idx
}

// prepareOut sets IP_RECVERR and binds a new flow socket: to the -o
// address, if any, and to port, falling back to an ephemeral port when
// port is taken.
func (h *Handler) prepareOut(fd int, v6 bool, port uint16) bool {
	lvl, opt := unix.IPPROTO_IP, unix.IP_RECVERR
	out := h.n.V4.Outbound
	if v6 {
		lvl, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
		out = h.n.V6.Outbound
	}
	if unix.SetsockoptInt(fd, lvl, opt, 1) != nil {
		return false
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) != nil {
		return false
	}
	setBufs(fd)
	var addr [16]byte
	if out.IsValid() && out.Is6() == v6 {
		addr = flow.AddrBytes(out)
	}
	salen := putSockaddr(&h.sa, v6, &addr, port)
	if bindRaw(fd, &h.sa, salen) == 0 {
		return true
	}
	if !out.IsValid() {
		return true // connect() picks address and port
	}
	salen = putSockaddr(&h.sa, v6, &addr, 0)
	return bindRaw(fd, &h.sa, salen) == 0
}

// stageSend copies a datagram of flow idx to the staging area, flushing
// first if it belongs to another flow or does not fit.
func (h *Handler) stageSend(idx int, payload []byte) {
	s := &h.stage
	if s.n > 0 && (s.idx != idx || s.n == len(s.msg) || s.off+len(payload) > len(s.arena)) {
		h.flush()
	}
	fl := h.tbl.At(idx)
	b := s.arena[s.off : s.off+len(payload)]
	copy(b, payload)
	s.off += len(payload)
	var sa *sockaddr
	var salen uint32
	switch fl.typ {
	case flowIn:
		l := &h.lst[fl.lst]
		s.fd = int(l.fd)
		sa = &s.name[s.n]
		salen = putSockaddr(sa, l.v6, &fl.peer, fl.peerPort)
	default:
		s.fd = int(fl.fd)
	}
	setMsg(&s.msg[s.n].Hdr, &s.iov[s.n], b, sa, salen)
	s.n++
	s.idx = idx
}

// flush sends the staged datagrams with sendmmsg(2). A datagram the
// socket refuses is dropped and counted; an error left pending by an
// earlier ICMP error (reported, and cleared, by this send) is retried
// once.
func (h *Handler) flush() {
	s := &h.stage
	sent, retried := 0, false
	for sent < s.n {
		r, e := sendmmsg(s.fd, s.msg[sent:s.n])
		if e == 0 {
			if r <= 0 {
				h.st.Drops[DropSend] += uint64(s.n - sent)
				break
			}
			sent += r
			h.st.FromGuest += uint64(r)
			retried = false
			continue
		}
		if !retried && asyncError(e) {
			retried = true
			continue
		}
		if e == unix.EAGAIN || e == unix.ENOBUFS || e == unix.EBADF {
			h.st.Drops[DropSend] += uint64(s.n - sent)
			break
		}
		h.drop(DropSend)
		sent++
		retried = false
	}
	s.idx, s.n, s.off = -1, 0, 0
}

// asyncError reports whether e may be a pending socket error from an
// earlier ICMP error rather than a failure of this send.
func asyncError(e unix.Errno) bool {
	switch e {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN, unix.EPROTO, unix.EMSGSIZE:
		return true
	}
	return false
}
