// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestBacklogFIFO: whatever the sizes and the interleaving of pushes and
// pops, frames come out in order and intact, and push refuses only when
// the slab or the frame ring has no room.
func TestBacklogFIFO(t *testing.T) {
	var b backlog
	r := rand.New(rand.NewPCG(7, 9))
	var want [][]byte
	seq := byte(0)
	for step := range 200000 {
		if r.IntN(3) > 0 {
			n := 1 + r.IntN(65535)
			if r.IntN(10) == 0 {
				n = 1 + r.IntN(64)
			}
			f := bytes.Repeat([]byte{seq}, n)
			if b.push(f, 0) {
				want = append(want, f)
				seq++
			} else if b.bytes+n <= backlogBytes/2 && b.n < backlogFrames {
				t.Fatalf("step %d: refused %d bytes with %d held in %d frames", step, n, b.bytes, b.n)
			}
		} else if b.n > 0 {
			if f, _ := b.peek(); !bytes.Equal(f, want[0]) {
				t.Fatalf("step %d: frame out of order or damaged", step)
			}
			b.pop()
			want = want[1:]
		}
		if b.n != len(want) {
			t.Fatalf("step %d: %d frames held, want %d", step, b.n, len(want))
		}
	}
}
