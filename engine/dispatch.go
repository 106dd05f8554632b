// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"net/netip"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
)

// Well-known ports of the link services, which get their own frame class.
const (
	portDHCPServer   = 67
	portDHCPv6Server = 547
)

// drop counts a frame from the guest as dropped for reason r.
func (e *Engine) drop(r DropReason, f []byte) {
	e.st.Drops[r]++
	e.st.Dropped++
	if e.trace {
		e.log.Debug("drop", "reason", r.String(), "len", len(f))
	}
}

// handleFrame is the life of one frame from the guest: capture, parse,
// classify, hand to the handler of its class. Mirrors tap_handler() and
// tap4_handler()/tap6_handler() in passt tap.c.
func (e *Engine) handleFrame(b []byte, now, wall int64) {
	e.st.FramesIn++
	e.st.BytesIn += uint64(len(b))
	if e.pcap != nil {
		e.pcap.WriteNanos(b, wall)
	}
	f := &e.frame
	if err := f.Parse(b); err != nil {
		e.drop(dropReasonOf(err), b)
		return
	}
	if f.VLANTags != 0 {
		e.drop(DropBadL2, b) // as passt: no VLANs on the tap link
		return
	}
	if f.EtherType == l2.EtherTypeARP {
		e.toHandler(f, flow.FrameARP, false, DropNoHandler, now)
		return
	}
	if f.IsFragment {
		// Held until the datagram is complete; then the whole
		// datagram goes on as one frame (valid until the next
		// fragment arrives).
		whole, ok := e.reasm.Add(f, now)
		if !ok {
			e.drop(DropFragment, b)
			return
		}
		if whole == nil {
			e.st.FragsHeld++
			return
		}
		if err := f.Parse(whole); err != nil || f.IsFragment {
			e.drop(DropFragment, b)
			return
		}
		e.st.Reassembled++
	}
	switch f.L4Proto {
	case l2.ProtoTCP:
		e.toHandler(f, flow.FrameTCP, e.n.NoTCP, DropNoHandler, now)
	case l2.ProtoUDP:
		port := f.UDP().DestinationPort()
		switch {
		case f.EtherType == l2.EtherTypeIPv4 && port == portDHCPServer && !e.n.NoDHCP:
			e.toHandler(f, flow.FrameDHCP, false, DropNoHandler, now)
		case f.EtherType == l2.EtherTypeIPv6 && port == portDHCPv6Server && !e.n.NoDHCPv6:
			e.toHandler(f, flow.FrameDHCPv6, false, DropNoHandler, now)
		default:
			e.toHandler(f, flow.FrameUDP, e.n.NoUDP, DropNoUDP, now)
		}
	case l2.ProtoICMP:
		if f.EtherType != l2.EtherTypeIPv4 || f.ICMPv4().Type() != l2.ICMPv4Echo {
			e.drop(DropNotForUs, b)
			return
		}
		e.toHandler(f, flow.FrameEcho, e.n.NoICMP, DropNoHandler, now)
	case l2.ProtoICMPv6:
		if f.EtherType != l2.EtherTypeIPv6 {
			e.drop(DropProto, b)
			return
		}
		switch t := f.ICMPv6().Type(); {
		case t == l2.ICMPv6EchoRequest:
			e.toHandler(f, flow.FrameEcho, e.n.NoICMP, DropNoHandler, now)
		case t >= l2.ICMPv6RouterSolicit && t <= l2.ICMPv6Redirect:
			e.toHandler(f, flow.FrameNDP, e.n.NoNDP, DropNoHandler, now)
		default:
			e.drop(DropNotForUs, b)
		}
	default:
		e.drop(DropProto, b)
	}
}

// learned is what learn may change, so that a dropped frame can undo it.
type learned struct {
	mac guest.MAC
	ll6 netip.Addr
}

// learn records the guest's MAC from the source of a frame handed to a
// handler, and its IPv6 link-local address from the IPv6 source, and
// returns what they were. passt learns from every frame; here a frame the
// handler does not accept (flow.NotForUs, flow.BadChecksum) is unlearned,
// so that a malformed or unanswerable frame cannot redirect the guest's
// traffic to another MAC. The handler sees the learned values during its
// call (a TCP reset to a new MAC goes to that MAC).
func (e *Engine) learn(f *l2.Frame) learned {
	old := learned{mac: e.n.GuestMAC, ll6: e.n.GuestLL6}
	src := f.Ethernet().Source()
	if !l2.IsMulticastMAC(src) && src != [6]byte{} && guest.MAC(src) != e.n.OurMAC {
		e.n.GuestMAC = guest.MAC(src)
	}
	if f.EtherType == l2.EtherTypeIPv6 && f.Src.IsLinkLocalUnicast() {
		e.n.GuestLL6 = f.Src
	}
	return old
}

// toHandler passes f to the handler of its class, or drops it: off (the
// service is switched off), or none (no handler took the class).
func (e *Engine) toHandler(f *l2.Frame, class flow.FrameClass, off bool, none DropReason, now int64) {
	h := e.byFrame[class]
	switch {
	case off:
		e.drop(DropOff, f.Raw)
		return
	case h == nil:
		e.drop(none, f.Raw)
		return
	}
	old := e.learn(f)
	switch h.HandleTap(f, now) {
	case flow.Accept:
		e.st.Service[serviceOf[class]]++
	case flow.BadChecksum:
		e.n.GuestMAC, e.n.GuestLL6 = old.mac, old.ll6
		e.drop(DropBadChecksum, f.Raw)
	default:
		e.n.GuestMAC, e.n.GuestLL6 = old.mac, old.ll6
		e.drop(DropNotForUs, f.Raw)
	}
}
