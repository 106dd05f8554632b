// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/proto/l2"
)

// lendTap is a segTap that lends "guest receive buffers" (flow.Lender),
// as the engine's over vhost-user: bufs buffers of size bytes per
// wake-up, each frame taking as many as its headers and payload need
// (mergeable buffers). Commit gathers each frame from its buffers and
// sends it as a segment, so that the test sees what the guest would.
type lendTap struct {
	*segTap
	off      bool // Lending false: the handler copies
	size     int  // bytes per buffer
	bufs     int  // buffers per wake-up
	mem      []byte
	used     int // buffers of this wake-up taken
	hdr      int
	frameBuf [][2]int // per lent frame: first buffer, buffers
	lends    int
	discard  int // loans after an iovec of the caller's (the discard buffer)
	frame    []byte
}

func newLendTap(s *segTap, size, bufs int) *lendTap {
	return &lendTap{segTap: s, size: size, bufs: bufs, mem: make([]byte, size*bufs),
		frameBuf: make([][2]int, 0, 512), frame: make([]byte, 0, 70000)}
}

// Room implements flow.Roomer, as the engine's over vhost-user.
func (l *lendTap) Room() int { return (l.bufs - l.used) * l.size }

func (l *lendTap) Lending() bool { return !l.off && l.used < l.bufs }

func (l *lendTap) Lend(hdr int, caps []int, iov []unix.Iovec) (int, []unix.Iovec) {
	l.lends++
	if len(iov) > 0 {
		l.discard++
	}
	l.hdr = hdr
	l.frameBuf = l.frameBuf[:0]
	at := l.used
	n := 0
	for n < len(caps) && at < l.bufs && len(iov) < cap(iov) {
		first, p := at, 0
		b := l.mem[at*l.size+hdr : (at+1)*l.size]
		at++
		for p < caps[n] && len(iov) < cap(iov) {
			k := min(len(b), caps[n]-p)
			iov = append(iov, iovec(b[:k]))
			p += k
			if p == caps[n] || at == l.bufs {
				break
			}
			b = l.mem[at*l.size : (at+1)*l.size]
			at++
		}
		l.frameBuf = append(l.frameBuf, [2]int{first, at - first})
		caps[n] = p
		n++
		if at == l.bufs {
			break
		}
	}
	return n, iov
}

func (l *lendTap) Commit(heads [][]byte, sizes []int, csumStart int) {
	for i := range heads {
		fb := l.frameBuf[i]
		f := append(l.frame[:0], heads[i]...)
		left := sizes[i]
		for k := range fb[1] {
			b := l.mem[(fb[0]+k)*l.size : (fb[0]+k+1)*l.size]
			if k == 0 {
				b = b[l.hdr:]
			}
			w := min(len(b), left)
			f = append(f, b[:w]...)
			left -= w
			l.used = fb[0] + k + 1
		}
		if csumStart != len(heads[i])-l2.TCPMinSize {
			panic("csumStart")
		}
		l.SendSegments([][]byte{f}, 1460)
	}
}

// Flush implements flow.Flusher: a new wake-up's buffers.
func (l *lendTap) Flush() bool { l.used = 0; return l.segTap.Flush() }

// TestLendToTap: with a tap that lends the guest's buffers, data from
// the host is peeked straight into them; frames are cut where the lent
// buffers end (the ring running out mid-frame), what was not filled goes
// back, and the bytes arrive whole and in order, counted as lent.
// Without lending now, the copy path sends them.
func TestLendToTap(t *testing.T) {
	for _, tt := range []struct {
		name         string
		size, bufs   int
		off, v6      bool
		noPeekOffset bool // kernels before 6.10: the discard buffer first
	}{
		{"pages", 4096, 64, false, false, false},
		{"pages v6", 4096, 64, false, true, false},
		{"few small", 1536, 50, false, false, false},
		{"copy", 4096, 64, true, false, false},
		{"no peek offset", 4096, 64, false, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvTapSeg(t, 4, 1500, false, true)
			lt := newLendTap(e.seg, tt.size, tt.bufs)
			lt.off = tt.off
			e.h.lender, e.h.roomer = lt, lt
			e.h.lend.init()
			if tt.noPeekOffset {
				e.h.usePeekOffset(false)
			}
			loop, src, dst := "127.0.0.1", netip.AddrPortFrom(guest4, 40031), gw4
			if tt.v6 {
				loop, src, dst = "::1", netip.AddrPortFrom(guest6, 40031), gw6
			}
			ln, port := hostListener(t, loop)
			g := e.connect(src, netip.AddrPortFrom(dst, port))
			srv := accept(t, ln)
			g.wnd = 0xffff
			g.send(l2.TCPFlagAck, nil)
			e.take()
			const size = 1 << 20
			e.roomForBulk(srv)
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i*7 + i>>9)
			}
			go srv.Write(data)
			var got []byte
			base := g.ack
			deadline := time.Now().Add(5 * time.Second)
			for len(got) < size && time.Now().Before(deadline) {
				lt.used = 0 // a new wake-up: the guest posted its buffers again
				e.poll(10)
				had := len(got)
				for _, b := range e.take() {
					s := e.parse(b) // checks the finished checksum
					if len(s.payload) == 0 {
						continue
					}
					if s.seq != base+uint32(len(got)) {
						t.Fatalf("seq %d, want %d", s.seq, base+uint32(len(got)))
					}
					if len(b) > tt.size*tt.bufs {
						t.Fatalf("a frame of %d bytes in %d buffers of %d", len(b), tt.bufs, tt.size)
					}
					got = append(got, s.payload...)
				}
				// Acknowledge what came before this round: data stays
				// in flight (peeked past, or into the discard buffer
				// without a peek offset).
				if ack := base + uint32(had); ack != g.ack || len(got) == size {
					g.ack = ack
					if len(got) == size {
						g.ack = base + size
					}
					g.send(l2.TCPFlagAck, nil)
				}
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes of %d arrived, or out of order", len(got), size)
			}
			if (lt.discard > 0) != tt.noPeekOffset {
				t.Fatalf("%d loans after the discard buffer, without a peek offset %v", lt.discard, tt.noPeekOffset)
			}
			if lent := e.h.Stats()[flow.Lent]; (lent > 0) == tt.off || (lt.lends > 0) == tt.off {
				t.Fatalf("%d frames lent in %d loans, lending off %v", lent, lt.lends, tt.off)
			}
		})
	}
}

// TestAllocsSockToTapLent: the lending path allocates nothing.
func TestAllocsSockToTapLent(t *testing.T) {
	b := newBulkSeg(t)
	lt := newLendTap(b.e.seg, 4096, 128)
	b.e.h.lender = lt
	b.e.h.lend.init()
	data := make([]byte, 256<<10)
	before := b.e.h.counts.Lent
	if n := testing.AllocsPerRun(50, func() { lt.used = 0; b.sockToTap(data) }); n != 0 {
		t.Fatalf("%v allocations per socket read", n)
	}
	if b.e.h.counts.Lent == before {
		t.Fatal("nothing lent")
	}
}
