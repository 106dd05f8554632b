// SPDX-License-Identifier: GPL-2.0-or-later

package flow

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
