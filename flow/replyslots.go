// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "gopasst/proto/l2"

// ReplySlots are the frame buffers of a handler that answers frames from the
// guest one by one (the link services: ARP, NDP, DHCP, DHCPv6): a slab
// allocated once, cut into slots of a fixed size. A reply is built in the
// slot Next returns and handed to the Tap with Send; the slot is free
// again at the next Begin (Reset), after the engine's flush. When every
// slot of a wake-up is taken, Next flushes the tap (Flusher) and starts
// over, so a burst of requests is answered in full; with a Tap that
// cannot flush, Next returns nil and the caller drops the request.
//
// Like everything in flow, ReplySlots belong to the event-loop goroutine.
type ReplySlots struct {
	slab    []byte
	size    int // bytes per slot
	next    int // first free slot
	tap     Tap
	flusher Flusher // tap, if it can flush mid-wake-up
	out     [1][]byte
}

// NewReplySlots returns slots buffers of size bytes each, sent to tap.
func NewReplySlots(tap Tap, slots, size int) ReplySlots {
	r := ReplySlots{slab: make([]byte, slots*size), size: size, tap: tap}
	r.flusher, _ = tap.(Flusher)
	return r
}

// Reset frees every slot: call it from Begin.
func (r *ReplySlots) Reset() { r.next = 0 }

// Next returns a free slot, or nil when none is left and the tap cannot
// be flushed. The slot's bytes are left as the last reply wrote them.
func (r *ReplySlots) Next() []byte {
	if (r.next+1)*r.size > len(r.slab) {
		if r.flusher == nil {
			return nil
		}
		// Flushed or refused by a full device, no queued frame refers to
		// the slab any more.
		r.flusher.Flush()
		r.next = 0
	}
	b := r.slab[r.next*r.size : (r.next+1)*r.size : (r.next+1)*r.size]
	r.next++
	return b
}

// Unget gives back the slot Next returned last, when no reply is due
// after all.
func (r *ReplySlots) Unget() {
	if r.next > 0 {
		r.next--
	}
}

// Send hands the reply in b (a slot from Next, cut to the frame's length)
// to the tap.
func (r *ReplySlots) Send(b []byte) {
	r.out[0] = b
	r.tap.Send(r.out[:])
	r.out[0] = nil
}

// Responder is what the link services share: their Claim, ReplySlots
// freed at every Begin, and a count of the replies sent (Stats:
// flow.Replies). A handler embeds it and adds HandleTap (and Tick, Stats
// if it has more to do or count).
type Responder struct {
	Nop
	Slots    ReplySlots
	Answered uint64 // replies sent with Send
	claim    Claim
}

// NewResponder returns a Responder that claims c, with slots reply
// buffers of size bytes sent to tap.
func NewResponder(tap Tap, c Claim, slots, size int) Responder {
	return Responder{Slots: NewReplySlots(tap, slots, size), claim: c}
}

// Claim implements Handler.
func (r *Responder) Claim() Claim { return r.claim }

// Begin implements Handler: the reply slots are free again.
func (r *Responder) Begin(int64) { r.Slots.Reset() }

// Send hands a reply built in a slot to the tap and counts it.
func (r *Responder) Send(b []byte) {
	r.Slots.Send(b)
	r.Answered++
}

// SendUDP wraps the payload a service built in place in out (a slot from
// Slots.Next, the payload behind room for the headers) in the UDP, IP
// (version of d's addresses) and Ethernet headers of d, with
// l2.BuildUDP4 or l2.BuildUDP6, which write the UDP checksum too, and
// sends it: Accept. If it does not fit, the slot is given back: NotForUs.
func (r *Responder) SendUDP(out []byte, d *l2.UDPDatagram) Verdict {
	var n int
	if d.Src.Addr().Is4() {
		n = l2.BuildUDP4(out, d)
	} else {
		n = l2.BuildUDP6(out, d)
	}
	if n <= 0 {
		r.Slots.Unget()
		return NotForUs
	}
	r.Send(out[:n])
	return Accept
}

// Stats implements Handler: the replies sent.
func (r *Responder) Stats() Stats {
	var s Stats
	s[Replies] = r.Answered
	return s
}
