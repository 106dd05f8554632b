// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"gopasst/proto/l2"
)

// TestPeekInFlightOnly: a peek that finds only the bytes the guest
// already has (a stale EPOLLIN: its data went out in an earlier peek) is
// not the end of file. Without SO_PEEK_OFF (kernels before 6.10, such as
// Debian 12's 6.1) the peek reads from the head, so the socket then
// returns exactly the bytes in flight; taking that for EOF sent the
// guest a FIN in the middle of the stream. The real end of file, with
// data in flight, gets its FIN once the guest has acknowledged it all,
// and with SO_PEEK_OFF at once, after the data.
func TestPeekInFlightOnly(t *testing.T) {
	for _, tt := range []struct {
		name    string
		peekOff bool
		eof     bool
	}{
		{"stale EPOLLIN, no peek offset", false, false},
		{"EOF in flight, no peek offset", false, true},
		{"stale EPOLLIN, peek offset", true, false},
		{"EOF in flight, peek offset", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 4)
			if tt.peekOff && !e.h.peekOff {
				t.Skip("the kernel has no SO_PEEK_OFF for TCP (before 6.10)")
			}
			if !tt.peekOff {
				e.h.usePeekOffset(false)
			}
			ln, port := hostListener(t, "127.0.0.1")
			g := e.connect(netip.AddrPortFrom(guest4, 40041), netip.AddrPortFrom(gw4, port))
			srv := accept(t, ln)
			e.take()

			first := bytes.Repeat([]byte("in flight "), 400)
			if _, err := srv.Write(first); err != nil {
				t.Fatal(err)
			}
			base := g.ack
			got := receive(e, len(first))
			if !bytes.Equal(got, first) {
				t.Fatalf("%d bytes of %d arrived, or out of order", len(got), len(first))
			}
			if tt.eof {
				if err := srv.CloseWrite(); err != nil {
					t.Fatal(err)
				}
				e.poll(100) // RDHUP
			} else {
				// The stale EPOLLIN: readable, nothing new.
				e.h.tab.conns[0].fl |= flSockReadable
				e.h.sockToTap(0, e.now)
				e.h.endWakeup(e.now)
			}
			fin := false
			for _, b := range e.take() {
				s := e.parse(b)
				if len(s.payload) > 0 {
					t.Fatalf("%d bytes sent again, unasked", len(s.payload))
				}
				fin = fin || s.flags&l2.TCPFlagFin != 0
			}
			if want := tt.eof && tt.peekOff; fin != want {
				t.Fatalf("FIN with %d bytes in flight: %v, want %v", len(first), fin, want)
			}

			g.ack = base + uint32(len(first))
			g.send(l2.TCPFlagAck, nil)
			if tt.eof {
				if !fin {
					e.waitSeg("FIN after the last ACK", hasFlags(l2.TCPFlagFin))
				}
				return
			}
			// The stream goes on.
			more := []byte("and more")
			if _, err := srv.Write(more); err != nil {
				t.Fatal(err)
			}
			if got := receive(e, len(more)); !bytes.Equal(got, more) {
				t.Fatalf("after the stale event: %q, want %q", got, more)
			}
		})
	}
}

// receive polls until n bytes of payload came to the guest (or 3 s
// passed) and returns them; a FIN among them fails the test.
func receive(e *env, n int) []byte {
	e.t.Helper()
	var got []byte
	for range 300 {
		for _, b := range e.take() {
			s := e.parse(b)
			if s.flags&l2.TCPFlagFin != 0 {
				e.t.Fatalf("FIN after %d of %d bytes", len(got)+len(s.payload), n)
			}
			got = append(got, s.payload...)
		}
		if len(got) >= n {
			break
		}
		e.poll(10)
	}
	return got
}

// TestPeekDiscardBounded: without SO_PEEK_OFF, the bytes in flight to
// the guest stay within discardWindow (the discard buffer every peek
// copies them into) however large the guest's window, and a bulk
// transfer arrives whole and in order. Without the bound, the guest's
// 8 MiB window let all the socket held (megabytes) go in flight.
func TestPeekDiscardBounded(t *testing.T) {
	e := newEnv(t, 4)
	e.h.usePeekOffset(false)
	ln, port := hostListener(t, "127.0.0.1")
	g := e.connect(netip.AddrPortFrom(guest4, 40043), netip.AddrPortFrom(gw4, port))
	srv := accept(t, ln)
	e.take()
	if wnd := uint32(g.wnd) << g.ws; wnd <= 2*discardWindow {
		t.Fatalf("guest window %d: not above the bound", wnd)
	}
	e.roomForBulk(srv)
	const size = 8 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*13 + i>>11)
	}
	go srv.Write(data)
	base := g.ack
	var got []byte
	most := 0
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < size && time.Now().Before(deadline) {
		// No ACK until the handler sends nothing more for three
		// rounds (the window, or the bound, is full), then all.
		for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
			e.poll(10)
			frames := e.take()
			quiet++
			for _, b := range frames {
				s := e.parse(b)
				if len(s.payload) == 0 {
					continue
				}
				if s.seq != base+uint32(len(got)) {
					t.Fatalf("seq %d, want %d", s.seq, base+uint32(len(got)))
				}
				got = append(got, s.payload...)
				quiet = 0
			}
		}
		most = max(most, int(base+uint32(len(got))-g.ack))
		g.ack = base + uint32(len(got))
		g.send(l2.TCPFlagAck, nil)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%d bytes of %d arrived, or out of order", len(got), size)
	}
	if most > discardWindow || most < discardWindow/2 {
		t.Fatalf("%d bytes in flight, want up to the bound %d", most, discardWindow)
	}
	t.Logf("at most %d bytes in flight", most)
}
