// SPDX-License-Identifier: GPL-2.0-or-later

package arp

import (
	"errors"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
)

// Config is what New needs. Tap belongs to the event loop.
type Config struct {
	Net *guest.Net // whom we stand in for, and our MAC
	Tap flow.Tap   // replies towards the guest
}

// replySlots is the number of replies built per wake-up before the tap is
// flushed to reuse them.
const replySlots = 128

// Handler answers the guest's ARP requests: the flow.Handler of
// flow.FrameARP. It runs on the event-loop goroutine and is unsafe for
// concurrent use.
type Handler struct {
	flow.Responder // reply slots, Begin, Stats; no fds, no timers
	n              *guest.Net
}

// New returns a handler with its reply buffers.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Tap == nil {
		return nil, errors.New("arp: Net and Tap are required")
	}
	const size = (l2.EthernetSize + l2.ARPSize + 7) &^ 7
	return &Handler{n: cfg.Net, Responder: flow.NewResponder(cfg.Tap, flow.Claim{
		Name: "arp", Frames: flow.FramesOf(flow.FrameARP), Counters: flow.CountersOf(flow.Replies),
	}, replySlots, size)}, nil
}

// HandleTap implements flow.Handler: it answers a request (see Reply) in
// an Ethernet frame from n.OurMAC back to the sender's MAC. Frames that
// need no answer are flow.NotForUs. Mirrors arp() in passt arp.c.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	out := h.Slots.Next()
	if out == nil {
		return flow.NotForUs
	}
	const n = l2.EthernetSize + l2.ARPSize
	if !Reply(h.n, f.ARP(), l2.ARP(out[l2.EthernetSize:n])) {
		h.Slots.Unget()
		return flow.NotForUs
	}
	l2.Ethernet(out).Encode(f.Ethernet().Source(), h.n.OurMAC, l2.EtherTypeARP)
	h.Send(out[:n])
	return flow.Accept
}
