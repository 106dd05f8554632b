// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/egress"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/guest"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// hostMapper maps a guest-visible destination to the host's: fwd.NAT,
// which tests replace so that nothing reaches the network.
type hostMapper interface {
	HostDestination(dst netip.Addr, port uint16, udp bool) (netip.Addr, uint16)
}

// Config is what New needs. Net, Poller and Tap belong to the event loop.
type Config struct {
	Net    *guest.Net  // the guest's view; its mapping methods translate destinations
	Poller flow.Poller // flow sockets register as flow.KindPing
	Tap    flow.Tap    // reply frames towards the guest
	// Capacity is the flow table size, allocated once; at most
	// flow.MaxIndex+1. 0: DefaultCapacity.
	Capacity int
	// Budget is the flow capacity shared with the engine's other
	// handlers: a new flow also takes a unit of it. Nil: no shared limit.
	Budget *flow.Budget
	// Gate is the guest's flow policy (egress rules, limits, audit log):
	// a request it refuses is answered with ICMP "administratively
	// prohibited". Nil: everything allowed.
	Gate *egress.Gate
	// Log is told once that ping sockets cannot be opened (like passt's
	// warning about net.ipv4.ping_group_range). Nil: discard.
	Log *slog.Logger
}

// DefaultCapacity is the flow table size when Config.Capacity is 0: pings
// are few.
const DefaultCapacity = 1024

// Counts are what the handler did; Stats gives them to the engine in the
// shape of flow.Stats.
type Counts struct {
	Requests    uint64 // echo requests sent to a socket
	Replies     uint64 // echo replies sent to the guest
	NewFlows    uint64 // flows (sockets) opened
	Expired     uint64 // flows closed by the timeout
	DropRequest uint64 // requests dropped: not echo, fragment, bad destination
	TableFull   uint64 // requests dropped: no free flow
	SocketError uint64 // socket(), bind() or poller failures
	SendError   uint64 // sendto() failures
	RecvError   uint64 // recvfrom() failures other than EAGAIN
	DropReply   uint64 // datagrams dropped: not an echo reply, wrong source, no buffer
	Refused     uint64 // requests refused by the flow policy, answered with "administratively prohibited"
}

// Handler relays the guest's ICMP and ICMPv6 echo requests through
// unprivileged ping sockets and turns the replies into frames. See the
// package comment. Not safe for concurrent use.
type Handler struct {
	flow.Nop // Begin
	n        *guest.Net
	poller   flow.Poller
	tap      flow.Tap
	mapper   hostMapper // fwd.NAT of n
	tbl      table

	// Preallocated socket addresses for bind, sendto and recvfrom.
	sa4  unix.RawSockaddrInet4
	sa6  unix.RawSockaddrInet6
	rsa  unix.RawSockaddrInet6
	msg  l2.ICMPMessage // reply being built
	out  [1][]byte      // argument to tap.Send
	bufs [ReplyBatch][]byte
	used int // reply buffers handed to the tap in this wake-up

	lastScan int64
	warned   bool
	log      *slog.Logger
	gate     *egress.Gate
	now      int64 // monotonic time of the current call

	counts Counts
}

// New returns a handler with room for cfg.Capacity flows. Sockets are
// registered with cfg.Poller under flow.KindPing; reply frames go to
// cfg.Tap.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Poller == nil || cfg.Tap == nil {
		return nil, errors.New("icmp: Net, Poller and Tap are required")
	}
	capacity := cfg.Capacity
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	capacity = min(capacity, flow.MaxIndex+1)
	n := cfg.Net
	h := &Handler{n: n, poller: cfg.Poller, tap: cfg.Tap, tbl: newTable(capacity), log: cfg.Log, gate: cfg.Gate}
	h.tbl.Budget = cfg.Budget
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mapper = fwd.NAT{Net: n}
	slab := make([]byte, ReplyBatch*frameSize)
	for i := range h.bufs {
		h.bufs[i] = slab[i*frameSize : (i+1)*frameSize : (i+1)*frameSize]
	}
	h.sa4.Family = unix.AF_INET
	h.sa6.Family = unix.AF_INET6
	return h, nil
}

// Claim implements flow.Handler: echo requests, ping sockets.
func (h *Handler) Claim() flow.Claim {
	return flow.Claim{
		Name:   "icmp",
		Kinds:  []flow.Kind{flow.KindPing},
		Frames: flow.FramesOf(flow.FrameEcho),
		Counters: flow.CountersOf(flow.Flows, flow.Opens, flow.Refused, flow.Expired,
			flow.Replies, flow.DropMalformed, flow.DropSocket, flow.DropSend,
			flow.DropRecv),
	}
}

// Stats implements flow.Handler.
func (h *Handler) Stats() flow.Stats {
	c := &h.counts
	var s flow.Stats
	s[flow.Flows] = uint64(h.tbl.Len())
	s[flow.Opens] = c.NewFlows
	s[flow.Refused] = c.TableFull + c.Refused
	s[flow.Expired] = c.Expired
	s[flow.Replies] = c.Replies
	s[flow.DropMalformed] = c.DropRequest
	s[flow.DropSocket] = c.SocketError
	s[flow.DropSend] = c.SendError
	s[flow.DropRecv] = c.RecvError + c.DropReply
	return s
}

// Counts returns the handler's own counters.
func (h *Handler) Counts() Counts { return h.counts }

// Len returns the number of live flows.
func (h *Handler) Len() int { return h.tbl.Len() }

// HandleTap relays an ICMP or ICMPv6 echo request from the guest. f must
// have been parsed without error. Other ICMP types, fragments and requests
// to addresses we cannot or will not reach are dropped. now is monotonic
// nanoseconds. Mirrors icmp_tap_handler() in passt icmp.c. Drops are
// counted here: every request is accepted.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	h.handleTap(f, now)
	return flow.Accept
}

func (h *Handler) handleTap(f *l2.Frame, now int64) {
	if h.n.NoICMP || f.IsFragment {
		h.counts.DropRequest++
		return
	}
	var v6 bool
	switch {
	case f.EtherType == l2.EtherTypeIPv4 && f.L4Proto == l2.ProtoICMP:
	case f.EtherType == l2.EtherTypeIPv6 && f.L4Proto == l2.ProtoICMPv6:
		v6 = true
	default:
		h.counts.DropRequest++
		return
	}
	msg := f.L4Bytes()
	want := uint8(l2.ICMPv4Echo)
	if v6 {
		want = l2.ICMPv6EchoRequest
	}
	// The kernel refuses anything but an echo request with code 0.
	if len(msg) < l2.ICMPv4MinSize || msg[0] != want || msg[1] != 0 || !reachable(f.Dst, v6) || !validSource(f.Src) {
		h.counts.DropRequest++
		return
	}
	id := l2.ICMPv4(msg).Ident()
	remote := flow.AddrBytes(f.Dst)
	idx, hash := h.tbl.lookup(v6, id, &remote)
	h.now = now
	if idx < 0 {
		if idx = h.newFlow(v6, id, hash, &remote, f); idx < 0 {
			return
		}
	}
	pf := h.tbl.At(idx)
	pf.lastTap = now
	pf.guest = flow.AddrBytes(f.Src)

	var e unix.Errno
	if v6 {
		h.sa6.Addr = pf.host
		e = sendto6(int(pf.fd), msg, &h.sa6)
	} else {
		h.sa4.Addr = [4]byte(pf.host[:4])
		e = sendto4(int(pf.fd), msg, &h.sa4)
	}
	if e != 0 {
		h.counts.SendError++
		return
	}
	pf.requests++
	pf.fromGuest += uint64(len(msg))
	h.counts.Requests++
}

// reachable reports whether the guest may ping dst: a unicast address that
// is not the guest's own loopback, and, for IPv6, not link-local (we have
// no interface to send a link-local ping from on the host side).
func reachable(dst netip.Addr, v6 bool) bool {
	if !dst.IsValid() || dst.Is6() != v6 || dst.Is4In6() || dst.IsUnspecified() || dst.IsLoopback() || dst.IsMulticast() {
		return false
	}
	if v6 {
		return !dst.IsLinkLocalUnicast()
	}
	return dst != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// validSource reports whether src can receive the replies.
func validSource(src netip.Addr) bool {
	return src.IsValid() && !src.IsUnspecified() && !src.IsMulticast() && !src.IsLoopback()
}

// hostDestination maps a guest-visible destination to the address the
// socket sends to: the ICMP part of passt's fwd_nat_from_tap() (no port,
// so --dns-forward never applies).
func (h *Handler) hostDestination(dst netip.Addr) netip.Addr {
	a, _ := h.mapper.HostDestination(dst, 0, false)
	return a
}

// newFlow opens a ping socket for a new flow and registers it. It returns
// the flow index, or -1 (counted) on failure.
func (h *Handler) newFlow(v6 bool, id uint16, hash uint64, remote *[16]byte, f *l2.Frame) int {
	if h.tbl.Full() {
		h.counts.TableFull++
		return -1
	}
	host := h.hostDestination(f.Dst)
	if !host.IsValid() || host.Is6() != v6 || host.Is4In6() {
		h.counts.DropRequest++
		return -1
	}
	// The flow policy, on the real destination. The guest's endpoint
	// "port" in the audit log is its echo identifier.
	guestEnd := netip.AddrPortFrom(f.Src, id)
	if !h.gate.Open(policy.ProtoICMP, audit.Outbound, guestEnd, netip.AddrPortFrom(host, 0), h.now) {
		h.counts.Refused++
		h.prohibited(f)
		return -1
	}
	ok := false
	defer func() {
		if !ok {
			h.gate.Close(policy.ProtoICMP, audit.Outbound, guestEnd, netip.AddrPortFrom(host, 0), h.now, h.now, 0, 0)
		}
	}()
	af, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		af, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(af, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		h.counts.SocketError++
		if !h.warned {
			h.warned = true
			h.log.Warn(fmt.Sprintf("cannot open ping socket (%v): echo requests will fail; you might need: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"", err))
		}
		return -1
	}
	outIf := h.n.V4.OutboundIf
	if v6 {
		outIf = h.n.V6.OutboundIf
	}
	if fwd.BindOutbound(fd, outIf, host) != 0 || !h.bindOutbound(fd, v6) {
		unix.Close(fd)
		h.counts.SocketError++
		return -1
	}
	idx := h.tbl.Len()
	ref := flow.Ref{Kind: flow.KindPing, Index: uint32(idx), Fd: int32(fd)}
	if err := h.poller.Add(fd, unix.EPOLLIN, ref); err != nil {
		unix.Close(fd)
		h.counts.SocketError++
		return -1
	}
	h.tbl.Add(&pingFlow{fd: int32(fd), v6: v6, guestID: id, remote: *remote, host: flow.AddrBytes(host), opened: h.now}, hash)
	h.counts.NewFlows++
	ok = true
	return idx
}

// bindOutbound binds a new socket to the configured outbound address (-o),
// if any, as passt's sock_l4() does with addr_out.
func (h *Handler) bindOutbound(fd int, v6 bool) bool {
	out := h.n.V4.Outbound
	if v6 {
		out = h.n.V6.Outbound
	}
	if !out.IsValid() || out.IsUnspecified() {
		return true
	}
	var e unix.Errno
	if v6 {
		var sa unix.RawSockaddrInet6
		sa.Family, sa.Addr = unix.AF_INET6, out.As16()
		e = bind6(fd, &sa)
	} else {
		var sa unix.RawSockaddrInet4
		sa.Family, sa.Addr = unix.AF_INET, out.As4()
		e = bind4(fd, &sa)
	}
	return e == 0
}

// Close closes every flow's socket. The handler must not be used after.
func (h *Handler) Close() {
	for h.tbl.Len() > 0 {
		h.closeFlow(h.tbl.Len() - 1)
	}
}

// prohibited answers a refused echo request with destination unreachable,
// "administratively prohibited", quoting it.
func (h *Handler) prohibited(f *l2.Frame) {
	if h.used == len(h.bufs) {
		return
	}
	buf := h.bufs[h.used]
	link := l2.Link{SrcMAC: [6]byte(h.n.OurMAC), DstMAC: [6]byte(h.n.GuestMAC)}
	n := l2.BuildAdminProhibited(buf, &link, f.Dst, f.Raw[f.L3:f.End])
	if n == 0 {
		return
	}
	h.used++
	h.out[0] = buf[:n]
	h.tap.Send(h.out[:])
	h.out[0] = nil
}
