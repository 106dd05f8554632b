// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "testing"

// recTap records what is sent; with flush, it is a Flusher too.
type recTap struct {
	sent    [][]byte
	flushes int
}

func (r *recTap) Send(frames [][]byte) {
	for _, f := range frames {
		r.sent = append(r.sent, append([]byte(nil), f...))
	}
}

type flushTap struct{ recTap }

func (f *flushTap) Flush() bool { f.flushes++; return true }

// TestReplySlots: a wake-up's slots run out; with a Flusher the tap is
// flushed and the slots start over, without one Next says nil; Unget
// gives the last slot back; Reset frees them all; Responder counts what
// it sends.
func TestReplySlots(t *testing.T) {
	plain := &recTap{}
	r := NewReplySlots(plain, 2, 16)
	a, b := r.Next(), r.Next()
	if len(a) != 16 || len(b) != 16 || &a[0] == &b[0] {
		t.Fatal("two slots of 16 bytes expected")
	}
	if r.Next() != nil {
		t.Fatal("a third slot without a Flusher")
	}
	r.Unget()
	if c := r.Next(); c == nil || &c[0] != &b[0] {
		t.Fatal("Unget did not give back the last slot")
	}
	r.Reset()
	if c := r.Next(); &c[0] != &a[0] {
		t.Fatal("Reset did not free the slots")
	}

	ft := &flushTap{}
	resp := NewResponder(ft, Claim{Name: "x"}, 2, 16)
	for i := range 5 {
		out := resp.Slots.Next()
		if out == nil {
			t.Fatalf("reply %d: no slot although the tap flushes", i)
		}
		out[0] = byte(i)
		resp.Send(out[:1])
	}
	if ft.flushes != 2 || len(ft.sent) != 5 || resp.Stats()[Replies] != 5 || resp.Claim().Name != "x" {
		t.Fatalf("%d flushes, %d sent, %d counted", ft.flushes, len(ft.sent), resp.Stats()[Replies])
	}
}
