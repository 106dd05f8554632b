// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

// chain walks one descriptor chain of a queue. Every descriptor is read
// once into locals and checked: its index within the table, no indirect
// table (not negotiated), its buffer wholly inside one memory region, at
// most min(size, maxChain) descriptors (a loop ends there).
type chain struct {
	q    *vring
	m    *memory
	next uint16 // index of the next descriptor
	seen int    // descriptors walked
	end  bool   // the last one was walked
	cur  []byte // write: what is left of the current buffer
}

func (c *chain) start(q *vring, m *memory, head uint16) {
	*c = chain{q: q, m: m, next: head}
}

// buf returns the chain's next buffer and whether the device may write
// it. At the end of the chain it returns (nil, false, true); for a
// malformed descriptor, ok false.
func (c *chain) buf() (b []byte, write, ok bool) {
	if c.end {
		return nil, false, true
	}
	if c.next >= c.q.size || c.seen >= int(c.q.size) || c.seen >= maxChain {
		return nil, false, false
	}
	d := c.q.descAt(c.next)
	addr, n, flags, next := d.Addr(), d.Len(), d.Flags(), d.Next()
	c.seen++
	if flags&descFIndirect != 0 {
		return nil, false, false
	}
	b = c.m.guest(addr, n)
	if b == nil && n != 0 {
		return nil, false, false
	}
	if flags&descFNext == 0 {
		c.end = true
	}
	c.next = next
	return b, flags&descFWrite != 0, true
}

// readFrame copies what a transmit chain carries: the first len(hdr)
// bytes (the virtio-net header) into hdr, the frame after it into dst. It
// returns the frame's length, or ok false when the chain is malformed
// (device-writable buffers, bad descriptors, shorter than the header) or
// the frame does not fit dst (long is then true).
func (c *chain) readFrame(hdr, dst []byte) (n int, ok, long bool) {
	h := 0
	for {
		b, write, good := c.buf()
		if !good || write {
			return 0, false, false
		}
		if h < len(hdr) {
			k := copy(hdr[h:], b)
			b, h = b[k:], h+k
		}
		if len(b) > len(dst)-n {
			return 0, false, true
		}
		n += copy(dst[n:], b)
		if c.end {
			if h < len(hdr) {
				return 0, false, false // shorter than its header
			}
			return n, true, false
		}
	}
}

// write copies src into the chain's device-writable buffers, after what
// earlier writes to this chain left, and returns how many bytes of src it
// wrote (short when the chain is full), or ok false when the chain is
// malformed (device-readable buffers, bad descriptors).
func (c *chain) write(src []byte) (n int, ok bool) {
	for n < len(src) {
		if len(c.cur) == 0 {
			if c.end {
				return n, true
			}
			b, write, good := c.buf()
			if !good || (len(b) > 0 && !write) {
				return n, false
			}
			c.cur = b
			continue
		}
		k := copy(c.cur, src[n:])
		c.cur, n = c.cur[k:], n+k
	}
	return n, true
}
