// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"errors"
	"net/netip"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
)

// Config is what New needs. Tap belongs to the event loop.
type Config struct {
	Net *guest.Net // what the guest is told
	Tap flow.Tap   // replies towards the guest
}

// Ports of RFC 2131 §4.1.
const (
	ServerPort = 67
	ClientPort = 68
)

// replySlots is the number of replies built per wake-up before the tap is
// flushed to reuse them.
const replySlots = 8

var ipv4Broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// Handler answers the guest's DHCP requests: the flow.Handler of
// flow.FrameDHCP (UDP over IPv4 to port 67). It runs on the event-loop
// goroutine and is unsafe for concurrent use.
type Handler struct {
	flow.Responder // reply slots, Begin, Stats; no fds, no timers
	n              *guest.Net
}

// New returns a handler with its reply buffers.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Tap == nil {
		return nil, errors.New("dhcp: Net and Tap are required")
	}
	const size = (l2.UDP4HeaderSize + MaxReplySize + 7) &^ 7
	return &Handler{n: cfg.Net, Responder: flow.NewResponder(cfg.Tap, flow.Claim{
		Name: "dhcp", Frames: flow.FramesOf(flow.FrameDHCP), Counters: flow.CountersOf(flow.Replies),
	}, replySlots, size)}, nil
}

// HandleTap implements flow.Handler: it answers a request (see Reply) in
// UDP 67→68 from the gateway, to the guest's address and MAC, or to
// broadcast. l2.BuildUDP4 writes the UDP checksum, which busybox udhcpc
// checks. A datagram with a wrong checksum is flow.BadChecksum; one that
// needs no answer flow.NotForUs. Mirrors dhcp() in passt dhcp.c.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	if !f.UDPChecksumValid() {
		return flow.BadChecksum
	}
	out := h.Slots.Next()
	if out == nil {
		return flow.NotForUs
	}
	m, bcast, ok := Reply(h.n, f.PayloadBytes(), out[l2.UDP4HeaderSize:])
	if !ok || m <= 0 {
		h.Slots.Unget()
		return flow.NotForUs
	}
	dst, dstMAC := h.n.V4.Addr, f.Ethernet().Source()
	if bcast {
		dst, dstMAC = ipv4Broadcast, l2.BroadcastMAC
	}
	d := l2.UDPDatagram{
		Link:    l2.Link{SrcMAC: h.n.OurMAC, DstMAC: dstMAC},
		Src:     netip.AddrPortFrom(h.n.V4.Gateway, ServerPort),
		Dst:     netip.AddrPortFrom(dst, ClientPort),
		Payload: out[l2.UDP4HeaderSize : l2.UDP4HeaderSize+m],
	}
	return h.SendUDP(out, &d)
}
