// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"gopasst/proto/l2"
)

// tapBatch delivers frames from the guest as the engine does within one
// batch: HandleTap for each, and neither EndBatch nor End.
func (e *env) tapBatch(frames ...[]byte) {
	e.t.Helper()
	for _, b := range frames {
		var f l2.Frame
		if err := f.Parse(b); err != nil {
			e.t.Fatalf("test frame does not parse: %v", err)
		}
		e.h.HandleTap(&f, e.now)
	}
}

// batchIn delivers frames from the guest as one engine batch: tapBatch,
// then EndBatch.
func (e *env) batchIn(frames ...[]byte) {
	e.t.Helper()
	e.tapBatch(frames...)
	e.h.EndBatch(e.now)
}

// pattern returns n bytes that differ from one offset to the next.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off + i) * 7 / 3)
	}
	return b
}

// readAll reads n bytes from c within 3 s.
func readAll(t *testing.T, c *net.TCPConn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("host read: %v", err)
	}
	return b
}

// lastAck returns the highest ACK sent to the guest since the last take,
// and whether there was one.
func (e *env) lastAck() (uint32, bool) {
	e.t.Helper()
	var ack uint32
	ok := false
	for _, b := range e.take() {
		s := e.parse(b)
		if s.flags&l2.TCPFlagAck != 0 && (!ok || int32(s.ack-ack) > 0) {
			ack, ok = s.ack, true
		}
	}
	return ack, ok
}

// TestGatherWrites: the segments of one batch are written with one
// sendmsg per run of a connection, in order, and acknowledged only after
// the batch: the host gets every byte of two interleaved connections in
// order, and no ACK covers a byte before it was written.
func TestGatherWrites(t *testing.T) {
	e := newEnv(t, 4)
	ln, port := hostListener(t, "127.0.0.1")
	g1 := e.connect(netip.AddrPortFrom(guest4, 40020), netip.AddrPortFrom(gw4, port))
	s1 := accept(t, ln)
	g2 := e.connect(netip.AddrPortFrom(guest4, 40021), netip.AddrPortFrom(gw4, port))
	s2 := accept(t, ln)
	e.take()

	const seg = 1000
	var frames [][]byte
	var want1, want2 []byte
	add := func(g *gconn, want *[]byte) {
		p := pattern(len(*want), seg)
		frames = append(frames, g.frame(l2.TCPFlagAck, g.seq, p))
		g.seq += seg
		*want = append(*want, p...)
	}
	// a, a, a, b, b, a: three gathered writes for g1, one for g2.
	add(g1, &want1)
	add(g1, &want1)
	add(g1, &want1)
	add(g2, &want2)
	add(g2, &want2)
	add(g1, &want1)

	// Within the batch, before EndBatch: what was queued is not
	// acknowledged yet.
	e.tapBatch(frames...)
	if ack, ok := e.lastAck(); ok {
		t.Fatalf("ACK %d sent before the batch was written", ack)
	}
	e.h.EndBatch(e.now)
	if e.h.wq.cnt != 0 {
		t.Fatalf("%d payloads still queued after EndBatch", e.h.wq.cnt)
	}
	if got := readAll(t, s1, len(want1)); !bytes.Equal(got, want1) {
		t.Fatal("first connection: the host got other bytes")
	}
	if got := readAll(t, s2, len(want2)); !bytes.Equal(got, want2) {
		t.Fatal("second connection: the host got other bytes")
	}
	e.h.endWakeup(e.now)
	acks := map[netip.AddrPort]uint32{}
	for _, b := range e.take() {
		s := e.parse(b)
		acks[s.dst] = s.ack
	}
	if acks[g1.local] != g1.seq || acks[g2.local] != g2.seq {
		t.Fatalf("ACKs %v, want %d and %d", acks, g1.seq, g2.seq)
	}
	if e.h.counts.ShortWrites != 0 {
		t.Fatalf("%d short writes", e.h.counts.ShortWrites)
	}
}

// TestGatherShortWrite: a gathered write the socket takes only in part
// gives the rest back. The ACK covers exactly what the host got, and the
// guest, sending again from there once the window opens, completes the
// stream with no byte lost or repeated. The guest here ignores our
// window, so the batch is larger than the socket's free space.
func TestGatherShortWrite(t *testing.T) {
	e, g, srv := slowReader(t, 40022)
	e.take()

	const seg = 60000
	start := g.seq
	var want []byte
	for round := 0; e.h.counts.ShortWrites == 0; round++ {
		if round == 200 {
			t.Fatalf("%d bytes written without a short write", len(want))
		}
		var frames [][]byte
		for range maxGather {
			p := pattern(len(want), seg)
			frames = append(frames, g.frame(l2.TCPFlagAck, g.seq, p))
			g.seq += seg
			want = append(want, p...)
		}
		e.batchIn(frames...)
		e.h.endWakeup(e.now)
	}
	ack, ok := e.lastAck()
	if !ok {
		t.Fatal("no ACK after the short write")
	}
	taken := int(ack - start)
	if taken <= 0 || taken >= len(want) {
		t.Fatalf("ACK for %d of %d bytes", taken, len(want))
	}
	t.Logf("the socket took %d of %d bytes", taken, len(want))

	// The host reads everything acknowledged, and must get exactly that.
	got := readAll(t, srv, taken)
	if !bytes.Equal(got, want[:taken]) {
		t.Fatal("the host got other bytes than the acknowledged ones")
	}
	// The guest goes back to the ACK and sends the rest, in batches,
	// while the host reads.
	done := make(chan []byte, 1)
	go func() {
		srv.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, len(want)-taken)
		n, _ := io.ReadFull(srv, b)
		done <- b[:n]
	}()
	next := ack
	deadline := time.Now().Add(5 * time.Second)
	for int(next-start) < len(want) && time.Now().Before(deadline) {
		var frames [][]byte
		for off := int(next - start); off < len(want) && len(frames) < 8; off += seg {
			end := min(off+seg, len(want))
			frames = append(frames, g.frame(l2.TCPFlagAck, start+uint32(off), want[off:end]))
		}
		e.batchIn(frames...)
		e.h.endWakeup(e.now)
		if a, ok := e.lastAck(); ok && int32(a-next) > 0 {
			next = a
		}
		e.poll(5)
	}
	if int(next-start) != len(want) {
		t.Fatalf("acknowledged %d of %d bytes", next-start, len(want))
	}
	if rest := <-done; !bytes.Equal(rest, want[taken:]) {
		t.Fatalf("the host got %d bytes after the short write, other than the %d sent again", len(rest), len(want)-taken)
	}
}
