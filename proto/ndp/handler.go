// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"errors"
	"net/netip"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
)

// Config is what New needs. Tap belongs to the event loop.
type Config struct {
	Net *guest.Net // what the guest is told, and our addresses
	Tap flow.Tap   // replies and advertisements towards the guest
}

const (
	// replySlots is the number of replies built per wake-up before the
	// tap is flushed to reuse them.
	replySlots = 8
	// replySize holds Ethernet, IPv6 and the largest message we build
	// (Handle and RouterAdvertisement stop at the end of their buffer).
	replySize = 8192
)

// Handler answers router and neighbour solicitations and sends the
// unsolicited router advertisement: the flow.Handler of flow.FrameNDP. It
// runs on the event-loop goroutine and is unsafe for concurrent use.
type Handler struct {
	flow.Responder // reply slots, Begin, replies; no fds
	n              *guest.Net
	advertised     bool   // the unsolicited RA is out (or not due)
	unsolicited    uint64 // unsolicited RAs
}

// New returns a handler with its reply buffers.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Tap == nil {
		return nil, errors.New("ndp: Net and Tap are required")
	}
	return &Handler{n: cfg.Net, Responder: flow.NewResponder(cfg.Tap, flow.Claim{
		Name: "ndp", Frames: flow.FramesOf(flow.FrameNDP), Counters: flow.CountersOf(flow.Replies, flow.Unsolicited),
	}, replySlots, replySize)}, nil
}

// HandleTap implements flow.Handler: it answers a solicitation (see
// Handle) in IPv6 from n.OurLL6 with hop limit 255, to the solicitation's
// source MAC (33:33:… for a multicast destination). Messages that need no
// answer, or fail Handle's checks, are flow.NotForUs.
func (h *Handler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	out := h.Slots.Next()
	if out == nil {
		return flow.NotForUs
	}
	const hdr = l2.EthernetSize + l2.IPv6MinSize
	m, dst, ok := Handle(h.n, f.IPv6().HopLimit(), f.Src, f.Dst, f.L4Bytes(), out[hdr:])
	if !ok || m <= 0 {
		h.Slots.Unget()
		return flow.NotForUs
	}
	h.Send(out[:h.wrap(out, dst, f.Ethernet().Source(), m)])
	return flow.Accept
}

// Begin implements flow.Handler: the reply buffers are free again, and
// the first Begin (the engine's wake-up zero, at start) sends one
// unsolicited router advertisement to all nodes, when IPv6, NDP and RAs
// are on.
func (h *Handler) Begin(now int64) {
	h.Responder.Begin(now)
	if h.advertised {
		return
	}
	h.advertised = true
	out := h.Slots.Next()
	if out == nil {
		return
	}
	const hdr = l2.EthernetSize + l2.IPv6MinSize
	m := RouterAdvertisement(h.n, out[hdr:])
	if m <= 0 {
		h.Slots.Unget()
		return
	}
	h.Slots.Send(out[:h.wrap(out, AllNodes, guest.BroadcastMAC, m)])
	h.unsolicited++
}

// Stats implements flow.Handler: replies and unsolicited RAs.
func (h *Handler) Stats() flow.Stats {
	s := h.Responder.Stats()
	s[flow.Unsolicited] = h.unsolicited
	return s
}

// wrap writes Ethernet and IPv6 headers (from n.OurLL6, hop limit
// HopLimit) in front of the m-byte ICMPv6 message at out[54:], whose
// checksum is already computed for that source and dst. unicastMAC is used
// when dst is not multicast. It returns the frame length.
func (h *Handler) wrap(out []byte, dst netip.Addr, unicastMAC [6]byte, m int) int {
	dstMAC := unicastMAC
	if dst.IsMulticast() {
		a := dst.As16()
		dstMAC = [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]} // RFC 2464 §7
	}
	l2.Ethernet(out).Encode(dstMAC, h.n.OurMAC, l2.EtherTypeIPv6)
	l2.IPv6(out[l2.EthernetSize:]).Encode(&l2.IPv6Fields{
		PayloadLength: uint16(m),
		NextHeader:    l2.ProtoICMPv6,
		HopLimit:      HopLimit,
		SrcAddr:       h.n.OurLL6,
		DstAddr:       dst,
	})
	return l2.EthernetSize + l2.IPv6MinSize + m
}
