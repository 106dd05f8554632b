// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import (
	"errors"
	"net/netip"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
)

// Config is what New needs. Tap belongs to the event loop.
type Config struct {
	Net *guest.Net // what the guest is told, and our link-local address
	Tap flow.Tap   // replies towards the guest
}

// replySlots is the number of replies built per wake-up before the tap is
// flushed to reuse them.
const replySlots = 8

// Handler answers the guest's DHCPv6 requests: the flow.Handler of
// flow.FrameDHCPv6 (UDP over IPv6 to port 547). It runs on the event-loop
// goroutine and is unsafe for concurrent use.
type Handler struct {
	flow.Responder // reply slots, Begin, Stats; no fds, no timers
	n              *guest.Net
}

// New returns a handler with its reply buffers.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Tap == nil {
		return nil, errors.New("dhcpv6: Net and Tap are required")
	}
	const size = (l2.UDP6HeaderSize + MaxReplySize + 7) &^ 7
	return &Handler{n: cfg.Net, Responder: flow.NewResponder(cfg.Tap, flow.Claim{
		Name: "dhcpv6", Frames: flow.FramesOf(flow.FrameDHCPv6), Counters: flow.CountersOf(flow.Replies),
	}, replySlots, size)}, nil
}

// HandleTap implements flow.Handler: it answers a request (see Reply) in
// UDP from n.OurLL6 port 547 to the client's address, port 546, with the
// checksum l2.BuildUDP6 writes. A datagram with a wrong checksum is
// flow.BadChecksum; one that needs no answer flow.NotForUs. Mirrors
// dhcpv6() in passt dhcpv6.c.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	if !f.UDPChecksumValid() {
		return flow.BadChecksum
	}
	out := h.Slots.Next()
	if out == nil {
		return flow.NotForUs
	}
	m, ok := Reply(h.n, f.PayloadBytes(), out[l2.UDP6HeaderSize:])
	if !ok || m <= 0 {
		h.Slots.Unget()
		return flow.NotForUs
	}
	d := l2.UDPDatagram{
		Link:    l2.Link{SrcMAC: h.n.OurMAC, DstMAC: f.Ethernet().Source()},
		Src:     netip.AddrPortFrom(h.n.OurLL6, ServerPort),
		Dst:     netip.AddrPortFrom(f.Src, ClientPort),
		Payload: out[l2.UDP6HeaderSize : l2.UDP6HeaderSize+m],
	}
	return h.SendUDP(out, &d)
}
