// SPDX-License-Identifier: GPL-2.0-or-later

package flowtest

// Tap is a flow.Tap that keeps a copy of every frame sent to the guest.
type Tap struct {
	Frames  [][]byte // copies, in order; empty if Discard
	Count   int      // frames sent
	Discard bool     // count only, without copying (allocation tests)
}

// Send implements flow.Tap.
func (r *Tap) Send(frames [][]byte) {
	for _, f := range frames {
		r.Count++
		if !r.Discard {
			r.Frames = append(r.Frames, append([]byte(nil), f...))
		}
	}
}
