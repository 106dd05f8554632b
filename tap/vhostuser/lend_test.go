// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"bytes"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lendHdr is the header length the tests lend for: Ethernet, IPv4, TCP.
const lendHdr = 54

// fillIov has the kernel write payload into the lent iovecs, as the TCP
// handler's recvmsg does: through a pipe and readv. It returns how many
// bytes it wrote.
func fillIov(t *testing.T, iov []unix.Iovec, payload []byte) int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, 1<<20)
	if n, err := unix.Write(p[1], payload); err != nil || n != len(payload) {
		t.Fatalf("pipe write: %d, %v", n, err)
	}
	r, _, e := unix.Syscall(unix.SYS_READV, uintptr(p[0]), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	if e != 0 {
		t.Fatal(e)
	}
	return int(r)
}

// lentHead is the header the test commits for frame i: lendHdr bytes.
func lentHead(i int) []byte { return bytes.Repeat([]byte{byte(0xa0 + i)}, lendHdr) }

// payloadOf is n bytes of a pattern.
func payloadOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// TestLend: frames lent over mergeable buffers, filled by the kernel,
// committed in full or in part; the guest sees them as WriteSegments
// frames (NEEDS_CSUM, num_buffers), and what was not committed is given
// back and used next.
func TestLend(t *testing.T) {
	const size = 1536
	first := size - netHdrSize - lendHdr // payload in a first buffer
	tests := []struct {
		name   string
		bufs   int // posted
		caps   []int
		fill   int   // payload bytes the "socket" has
		lent   []int // caps after Lend
		frames []int // payload per frame the guest gets
		nbufs  []int
	}{
		{"full", 11, []int{3000, 3000, 100}, 6100, []int{3000, 3000, 100}, []int{3000, 3000, 100}, []int{2, 2, 1}},
		{"partial", 11, []int{3000, 3000, 3000}, 3500, []int{3000, 3000, 3000}, []int{3000, 500}, []int{2, 1}},
		{"within the first", 11, []int{3000, 3000}, 100, []int{3000, 3000}, []int{100}, []int{1}},
		{"ring runs out mid-frame", 9, []int{3000, 3000, 3000, 3000, 3000}, 15000,
			[]int{3000, 3000, 3000, 3000, first}, []int{3000, 3000, 3000, 3000, first}, []int{2, 2, 2, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFrontend(t)
			f.setup(Features)
			f.postRx(tt.bufs, size)
			if !f.dev.Lending() {
				t.Fatal("not lending")
			}
			caps := append([]int(nil), tt.caps...)
			n, iov, err := f.dev.Lend(lendHdr, caps, make([]unix.Iovec, 0, 64))
			if err != nil || n != len(tt.lent) || !equalInts(caps[:n], tt.lent) {
				t.Fatalf("Lend = %d (%v), %v; want %v", n, caps[:n], err, tt.lent)
			}
			want := 0
			for _, c := range caps[:n] {
				want += c
			}
			pl := payloadOf(tt.fill)
			got := fillIov(t, iov, pl)
			if got != min(tt.fill, want) {
				t.Fatalf("filled %d of %d", got, want)
			}
			var heads [][]byte
			var sizes []int
			for i, sent := 0, 0; sent < got; i++ {
				sz := min(caps[i], got-sent)
				heads, sizes = append(heads, lentHead(i)), append(sizes, sz)
				sent += sz
			}
			if k, err := f.dev.Commit(heads, sizes, 34); err != nil || k != len(tt.frames) {
				t.Fatalf("Commit = %d, %v; want %d", k, err, len(tt.frames))
			}
			if !f.called(rxQueue) {
				t.Error("guest not notified")
			}
			fr, nb := f.rxFrames(size)
			if len(fr) != len(tt.frames) || !equalInts(nb, tt.nbufs) {
				t.Fatalf("%d frames, num_buffers %v; want %d, %v", len(fr), nb, len(tt.frames), tt.nbufs)
			}
			off := 0
			for i, g := range fr {
				if !bytes.Equal(g[:lendHdr], lentHead(i)) || !bytes.Equal(g[lendHdr:], pl[off:off+tt.frames[i]]) {
					t.Errorf("frame %d differs (%d bytes)", i, len(g))
				}
				off += tt.frames[i]
			}
			// The header, as for a segment.
			used := 0
			for _, b := range nb {
				used += b
			}
			h := f.mem[0x200000 : 0x200000+netHdrSize]
			if want := []byte{netHdrFNeedsCsum, 0, 0, 0, 0, 0, 34, 0, 16, 0, byte(tt.nbufs[0]), 0}; !bytes.Equal(h, want) {
				t.Errorf("header % x, want % x", h, want)
			}
			// The rest went back: the next frame takes the next buffer.
			if q := &f.dev.q[rxQueue]; int(q.lastAvail) != used || q.staged != 0 {
				t.Fatalf("lastAvail %d, staged %d after %d buffers", q.lastAvail, q.staged, used)
			}
			f.postRx(1, size)
			if n, _ := f.dev.WriteFrames([][]byte{frame(60, 1)}); n != 1 {
				t.Fatal("WriteFrames after the loan")
			}
			u := f.usedEntries(rxQueue)
			if len(u) != 1 || int(u[0][0]) != used {
				t.Errorf("used %v after the loan, want buffer %d", u, used)
			}
		})
	}
}

// TestLendRefused: what is not lent (nothing taken), and what then
// writes the frames: no GUEST_CSUM, frames held back, a first buffer too
// small for the headers, a loan not committed, a malformed chain.
func TestLendRefused(t *testing.T) {
	// lendsNothing posts four buffers and asks for a loan of one frame,
	// which must be refused.
	lendsNothing := func(t *testing.T, f *frontend, what string) {
		t.Helper()
		f.postRx(4, 1536)
		if n, _, _ := f.dev.Lend(lendHdr, []int{1000}, make([]unix.Iovec, 0, 4)); n != 0 || f.dev.Lending() {
			t.Fatalf("lent %d frames %s", n, what)
		}
	}
	t.Run("no guest csum", func(t *testing.T) {
		f := newFrontend(t)
		f.setup(Features &^ (1 << featGuestCsum))
		lendsNothing(t, f, "to a guest without GUEST_CSUM")
	})
	t.Run("held", func(t *testing.T) {
		f := newFrontend(t)
		f.setup(Features)
		f.dev.WriteFrames([][]byte{frame(1000, 1)}) // no buffers: held
		lendsNothing(t, f, "past a held one")
	})
	t.Run("first buffer too small", func(t *testing.T) {
		f := newFrontend(t)
		f.setup(Features)
		f.postRx(8, netHdrSize+lendHdr-1)
		n, iov, _ := f.dev.Lend(lendHdr, []int{100}, make([]unix.Iovec, 0, 4))
		if n != 0 || len(iov) != 0 || f.dev.q[rxQueue].lastAvail != 0 {
			t.Fatalf("lent %d frames (%d iovecs) in a buffer too small", n, len(iov))
		}
		if n, _ := f.dev.Commit(nil, nil, 0); n != 0 {
			t.Fatal("committed without a loan")
		}
		// The copy path spreads it over the buffers.
		if n, _ := f.dev.WriteFrames([][]byte{frame(200, 1)}); n != 1 || len(f.usedEntries(rxQueue)) != 4 {
			t.Fatal("WriteFrames after the refused loan")
		}
	})
	t.Run("given back", func(t *testing.T) {
		f := newFrontend(t)
		f.setup(Features)
		f.postRx(4, 1536)
		if n, _, _ := f.dev.Lend(lendHdr, []int{1000, 1000, 1000}, make([]unix.Iovec, 0, 4)); n != 3 {
			t.Fatalf("lent %d", n)
		}
		if n, _ := f.dev.Commit(nil, nil, 34); n != 0 || f.called(rxQueue) {
			t.Fatal("committed or notified with nothing")
		}
		if q := &f.dev.q[rxQueue]; q.lastAvail != 0 || q.staged != 0 {
			t.Fatalf("lastAvail %d, staged %d", q.lastAvail, q.staged)
		}
		// Lent again, and WriteFrames without a Commit gives it back.
		f.dev.Lend(lendHdr, []int{1000}, make([]unix.Iovec, 0, 4))
		if n, _ := f.dev.WriteFrames([][]byte{frame(60, 1)}); n != 1 {
			t.Fatal("WriteFrames")
		}
		if u := f.usedEntries(rxQueue); len(u) != 1 || u[0][0] != 0 {
			t.Fatalf("used %v, want buffer 0", u)
		}
	})
	t.Run("malformed chain", func(t *testing.T) {
		f := newFrontend(t)
		f.setup(Features)
		f.postRx(1, 1536)
		f.addChain(rxQueue, [3]int{0x300000, 1536, 0}) // device-readable
		f.postRx(2, 1536)
		caps := []int{3000, 3000}
		n, iov, _ := f.dev.Lend(lendHdr, caps, make([]unix.Iovec, 0, 8))
		if n != 1 || caps[0] != 1536-netHdrSize-lendHdr || len(iov) != 1 {
			t.Fatalf("lent %d frames, caps %v, %d iovecs: want one frame in the first buffer", n, caps, len(iov))
		}
		if k, _ := f.dev.Commit([][]byte{lentHead(0)}, []int{caps[0]}, 34); k != 1 {
			t.Fatal("Commit")
		}
		if u := f.usedEntries(rxQueue); len(u) != 1 {
			t.Fatalf("used %v", u)
		}
		// The next loan starts at the malformed chain: none; the copy
		// path drops it (with the frame), counted, and goes on.
		if n, _, _ := f.dev.Lend(lendHdr, caps, make([]unix.Iovec, 0, 8)); n != 0 {
			t.Fatalf("lent %d at a malformed chain", n)
		}
		errs := f.dev.Counters().RingErrors
		if n, _ := f.dev.WriteFrames([][]byte{frame(60, 1)}); n != 1 || f.dev.Counters().RingErrors != errs+1 {
			t.Fatal("the malformed chain was not dropped and counted")
		}
		if n, _ := f.dev.WriteFrames([][]byte{frame(60, 1)}); n != 1 {
			t.Fatal("WriteFrames")
		}
		if u := f.usedEntries(rxQueue); len(u) != 2 || u[0] != [2]uint32{1, 0} || u[1][1] != netHdrSize+60 {
			t.Fatalf("used %v", u)
		}
	})
}

// TestLendIovecs: a loan stops where the caller's iovec array is full,
// the last frame shorter.
func TestLendIovecs(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	f.postRx(16, 1536)
	caps := []int{5000, 5000}
	n, iov, _ := f.dev.Lend(lendHdr, caps, make([]unix.Iovec, 0, 3))
	if want := 1536 - netHdrSize - lendHdr + 2*1536; n != 1 || caps[0] != want || len(iov) != 3 {
		t.Fatalf("lent %d frames, caps %v, %d iovecs; want 1 of %d", n, caps, len(iov), want)
	}
	f.dev.Commit([][]byte{lentHead(0)}, caps[:1], 34)
	if u := f.usedEntries(rxQueue); len(u) != 3 {
		t.Fatalf("used %v", u)
	}
}
