// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/guest"
	"gopasst/proto/l2"
)

// bulk is an established connection for the allocation tests and the
// benchmarks, with frames from the guest built in place.
type bulk struct {
	e    *env
	g    *gconn
	srv  *net.TCPConn
	buf  []byte
	f    l2.Frame
	segs l2.TCPSegment
}

func newBulk(tb testing.TB, payload int) *bulk {
	tb.Helper()
	return newBulkTap(tb, payload, 0, false)
}

// newBulkTap is newBulk on newEnvTap(mtu, flush).
func newBulkTap(tb testing.TB, payload, mtu int, flush bool) *bulk {
	tb.Helper()
	return newBulkEnv(tb, payload, newEnvTap(tb, 4, mtu, flush))
}

// newBulkSeg is newBulk at MTU 1500 on a tap that takes segments
// (segTap), with room for 1 MiB in our socket's receive queue.
func newBulkSeg(tb testing.TB) *bulk {
	tb.Helper()
	b := newBulkEnv(tb, 0, newEnvTapSeg(tb, 4, 1500, false, true))
	if err := unix.SetsockoptInt(b.e.h.tab.conns[0].sock, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20); err != nil {
		tb.Fatal(err)
	}
	return b
}

// newBulkEnv is newBulk on e.
func newBulkEnv(tb testing.TB, payload int, e *env) *bulk {
	tb.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	g := e.connect(netip.AddrPortFrom(guest4, 40100), netip.AddrPortFrom(gw4, port))
	ln.SetDeadline(time.Now().Add(3 * time.Second))
	srv, err := ln.AcceptTCP()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	e.take()
	e.tap.Discard = true
	b := &bulk{e: e, g: g, srv: srv, buf: make([]byte, l2.TCP4HeaderSize+payload)}
	b.segs = l2.TCPSegment{
		Link:    l2.Link{SrcMAC: guestMAC, DstMAC: [6]byte(guest.DefaultOurMAC)},
		Src:     g.local,
		Dst:     g.remote,
		Flags:   l2.TCPFlagAck,
		Window:  0xffff,
		Payload: make([]byte, payload),
	}
	return b
}

// fromGuest delivers one segment at the guest's sequence with the current
// ACK, without allocating.
func (b *bulk) fromGuest(payload []byte) {
	b.segs.Seq, b.segs.Ack, b.segs.Payload = b.g.seq, b.g.ack, payload
	n := l2.BuildTCP4(b.buf, &b.segs)
	if b.f.Parse(b.buf[:n]) != nil {
		panic("bad frame")
	}
	b.e.h.HandleTap(&b.f, b.e.now)
	b.g.seq += uint32(len(payload))
}

// tapToSock sends one data segment from the guest; a goroutine drains the
// host side.
func (b *bulk) tapToSock() {
	b.fromGuest(b.segs.Payload[:cap(b.segs.Payload)])
	b.e.h.endWakeup(b.e.now)
}

// sockToTap writes data on the host side, lets the handler forward it and
// the guest acknowledge it.
func (b *bulk) sockToTap(data []byte) {
	if _, err := b.srv.Write(data); err != nil {
		panic(err)
	}
	c := &b.e.h.tab.conns[0]
	ref := b.e.h.ref(c, 0)
	for c.seqToTap.sub(seqnum(b.g.ack)) < uint32(len(data)) {
		b.e.h.HandleSock(ref, unix.EPOLLIN, b.e.now)
		b.e.h.endWakeup(b.e.now)
	}
	b.g.ack = uint32(c.seqToTap)
	b.fromGuest(nil)
	b.e.h.endWakeup(b.e.now)
}

func drain(srv *net.TCPConn) {
	go io.Copy(io.Discard, srv)
}

func TestAllocsTapToSock(t *testing.T) {
	b := newBulk(t, 1400)
	drain(b.srv)
	if n := testing.AllocsPerRun(200, b.tapToSock); n != 0 {
		t.Fatalf("%v allocations per segment from the guest", n)
	}
	if b.e.h.counts.ShortWrites != 0 {
		t.Fatalf("short writes")
	}
}

// TestAllocsTapToSockGathered: a batch of eight segments, gathered and
// written with one sendmsg at EndBatch (writeq.go).
func TestAllocsTapToSockGathered(t *testing.T) {
	b := newBulk(t, 1400)
	drain(b.srv)
	var bufs [8][]byte
	var frames [8]l2.Frame
	for i := range bufs {
		bufs[i] = make([]byte, len(b.buf))
	}
	batch := func() {
		for i := range bufs {
			b.segs.Seq, b.segs.Ack = b.g.seq, b.g.ack
			b.segs.Payload = b.segs.Payload[:cap(b.segs.Payload)]
			n := l2.BuildTCP4(bufs[i], &b.segs)
			if frames[i].Parse(bufs[i][:n]) != nil {
				panic("bad frame")
			}
			b.e.h.HandleTap(&frames[i], b.e.now)
			b.g.seq += uint32(len(b.segs.Payload))
		}
		if b.e.h.wq.cnt != len(bufs) {
			panic("the batch was not gathered")
		}
		b.e.h.EndBatch(b.e.now)
		b.e.h.endWakeup(b.e.now)
	}
	if n := testing.AllocsPerRun(100, batch); n != 0 {
		t.Fatalf("%v allocations per batch from the guest", n)
	}
	if b.e.h.counts.ShortWrites != 0 {
		t.Fatalf("short writes")
	}
}

func TestAllocsSockToTap(t *testing.T) {
	b := newBulk(t, 0)
	data := make([]byte, 4000)
	before := b.e.tap.Count
	if n := testing.AllocsPerRun(200, func() { b.sockToTap(data) }); n != 0 {
		t.Fatalf("%v allocations per socket read", n)
	}
	if b.e.tap.Count-before < 201*3 {
		t.Fatalf("only %d frames sent", b.e.tap.Count-before)
	}
}

// TestAllocsSockToTapFlush: at MTU 1500 with a flushable tap, a read
// that needs more than one batch of frames (flushing in between)
// allocates nothing either.
func TestAllocsSockToTapFlush(t *testing.T) {
	b := newBulkTap(t, 0, 1500, true)
	if err := unix.SetsockoptInt(b.e.h.tab.conns[0].sock, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 256<<10) // 180 frames: two batches
	if n := testing.AllocsPerRun(50, func() { b.sockToTap(data) }); n != 0 {
		t.Fatalf("%v allocations per socket read", n)
	}
	if b.e.flush.flushes == 0 {
		t.Fatal("no flush: the test does not cover it")
	}
}

func BenchmarkTapToSock(bm *testing.B) {
	b := newBulk(bm, 65000)
	drain(b.srv)
	bm.SetBytes(65000)
	bm.ReportAllocs()
	for bm.Loop() {
		b.tapToSock()
	}
}

func BenchmarkSockToTap(bm *testing.B) {
	b := newBulk(bm, 0)
	data := make([]byte, 32<<10) // fits in the receive buffer of our socket: Write must not block
	bm.SetBytes(int64(len(data)))
	bm.ReportAllocs()
	for bm.Loop() {
		b.sockToTap(data)
	}
}

// BenchmarkSockToTap1500 is BenchmarkSockToTap at MTU 1500 with a
// flushable tap: 256 KiB per read, 180 frames, a flush every 128.
func BenchmarkSockToTap1500(bm *testing.B) {
	b := newBulkTap(bm, 0, 1500, true)
	if err := unix.SetsockoptInt(b.e.h.tab.conns[0].sock, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20); err != nil {
		bm.Fatal(err)
	}
	data := make([]byte, 256<<10)
	bm.SetBytes(int64(len(data)))
	bm.ReportAllocs()
	for bm.Loop() {
		b.sockToTap(data)
	}
}

// BenchmarkTapToSock1500 is BenchmarkTapToSock with 1460-byte segments.
func BenchmarkTapToSock1500(bm *testing.B) {
	b := newBulkTap(bm, 1460, 1500, true)
	drain(b.srv)
	bm.SetBytes(1460)
	bm.ReportAllocs()
	for bm.Loop() {
		b.tapToSock()
	}
}
