// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

// backlog holds frames for the guest that found its receive queue full,
// in order, until it posts buffers again: the role a tap device's queue or
// the stream socket's send buffer plays for the other devices. Without it
// every frame beyond the ring is dropped, and TCP to the guest crawls
// through retransmissions whenever the guest is slower than the host
// (always, under TCG).
//
// Frames are copied into one slab, in allocation order, wrapping to the
// start when the end has no room: the free space is after the newest
// frame, or (wrapped) between the newest and the oldest. The slab is
// allocated on the first push (a guest that keeps up never needs it).
type backlog struct {
	slab  []byte
	off   []int32 // ring of frames: offset in slab
	size  []int32 // and length
	csum  []int32 // and where a partial TCP checksum starts (NEEDS_CSUM), or 0
	first int     // index in off/size of the oldest frame
	n     int     // frames held
	bytes int     // bytes held
}

// Limits of the backlog: about the receive window a Linux guest
// advertises by default (tcp_rmem's 6 MiB maximum, half of it window),
// for all connections together.
const (
	backlogBytes  = 8 << 20
	backlogFrames = 8192
)

// push copies f in, with where its partial checksum starts (0: none),
// and reports whether there was room.
func (b *backlog) push(f []byte, csumStart int) bool {
	if b.slab == nil {
		b.slab = make([]byte, backlogBytes)
		b.off = make([]int32, backlogFrames)
		b.size = make([]int32, backlogFrames)
		b.csum = make([]int32, backlogFrames)
	}
	need := len(f)
	if b.n == len(b.off) || need > len(b.slab) {
		return false
	}
	at := 0
	if b.n > 0 {
		last := (b.first + b.n - 1) % len(b.off)
		head, tail := int(b.off[b.first]), int(b.off[last]+b.size[last])
		switch {
		case int(b.off[last]) < head: // wrapped: free is [tail, head)
			if tail+need > head {
				return false
			}
			at = tail
		case tail+need <= len(b.slab):
			at = tail
		case need <= head:
			at = 0
		default:
			return false
		}
	}
	copy(b.slab[at:], f)
	i := (b.first + b.n) % len(b.off)
	b.off[i], b.size[i], b.csum[i] = int32(at), int32(need), int32(csumStart)
	b.n++
	b.bytes += need
	return true
}

// peek returns the oldest frame and where its partial checksum starts
// (n > 0).
func (b *backlog) peek() ([]byte, int) {
	o := int(b.off[b.first])
	return b.slab[o : o+int(b.size[b.first])], int(b.csum[b.first])
}

// pop drops the oldest frame.
func (b *backlog) pop() {
	b.bytes -= int(b.size[b.first])
	b.first = (b.first + 1) % len(b.off)
	b.n--
	if b.n == 0 {
		b.first = 0
	}
}

// clear drops every frame (the slab stays).
func (b *backlog) clear() { b.first, b.n, b.bytes = 0, 0, 0 }
