// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
)

// windowWatch is the guest's view of the window of one connection whose
// data goes into a host socket: the highest ACK and right window edge the
// handler sent, and a guest that sends up to that edge.
type windowWatch struct {
	t            *testing.T
	e            *env
	g            *gconn
	c            *conn
	acked, right uint32 // highest ACK and right window edge seen
	sent         int
	payload      []byte
}

func newWindowWatch(t *testing.T, e *env, g *gconn) *windowWatch {
	return &windowWatch{t: t, e: e, g: g, c: &e.h.tab.conns[0], acked: g.seq, right: g.seq + g.peerWnd,
		payload: make([]byte, 60000)}
}

// meminfo returns SO_SNDBUF and the memory queued on the host socket.
func (w *windowWatch) meminfo() (sndbuf, queued int64) {
	var mi [memInfoVars]uint32
	if _, e := getsockoptBytes(w.c.sock, unix.SOL_SOCKET, unix.SO_MEMINFO, unsafe.Slice((*byte)(unsafe.Pointer(&mi[0])), len(mi)*4)); e != 0 {
		w.t.Fatal(e)
	}
	return int64(mi[memInfoSndbuf]), int64(mi[memInfoQueued])
}

// track reads the handler's ACKs; every window must fit in the socket's
// free space now: SO_SNDBUF minus the memory of what is queued.
func (w *windowWatch) track() {
	for _, b := range w.e.take() {
		s := w.e.parse(b)
		if s.flags&l2.TCPFlagAck == 0 {
			continue
		}
		if int32(s.ack-w.acked) > 0 {
			w.acked = s.ack
		}
		edge := s.ack + uint32(s.wnd)<<wsToTap
		if int32(edge-w.right) > 0 {
			w.right = edge
		}
		sndbuf, queued := w.meminfo()
		if free := max(sndbuf-queued, 0); int64(uint32(s.wnd)<<wsToTap) > free+int64(w.g.seq-s.ack) {
			w.t.Fatalf("window %d above free space %d", uint32(s.wnd)<<wsToTap, free)
		}
	}
}

// room is what the guest may still send.
func (w *windowWatch) room() int { return int(int32(w.right - w.g.seq)) }

// fill sends as much as the window allows, and checks the handler took
// all of it: no short write, everything acknowledged, no window left.
func (w *windowWatch) fill() {
	for range 4000 {
		w.track()
		if w.room() <= 0 {
			break
		}
		n := min(w.room(), len(w.payload))
		w.g.send(l2.TCPFlagAck, w.payload[:n])
		w.sent += n
	}
	w.e.poll(0)
	w.track()
	if w.room() > 0 {
		w.t.Fatalf("the guest sent %d bytes and still has %d of window: the socket never filled", w.sent, w.room())
	}
	if w.e.h.counts.ShortWrites != 0 {
		w.t.Fatalf("%d short writes", w.e.h.counts.ShortWrites)
	}
	if w.acked != w.g.seq {
		w.t.Fatalf("acked %d of %d", w.acked-1001, w.g.seq-1001)
	}
}

// slowReader opens a connection from the guest (source port sport) to a
// host listener whose accepted end has a small receive buffer and reads
// only when the test does: the handler's socket fills.
func slowReader(t *testing.T, sport uint16) (*env, *gconn, *net.TCPConn) {
	e := newEnv(t, 4)
	ln, port := hostListener(t, "127.0.0.1")
	g := e.connect(netip.AddrPortFrom(guest4, sport), netip.AddrPortFrom(gw4, port))
	srv := accept(t, ln)
	srv.SetReadBuffer(64 << 10)
	return e, g, srv
}

// TestWindowBoundBySocket is the PASTA-STALL check: the guest sends as
// fast as the windows we advertise allow into a host socket nobody reads.
// No write may come up short (the window never exceeds the free space of
// the send buffer), every acknowledged byte must reach the host, and when
// the host reads again a window update must let the guest go on.
func TestWindowBoundBySocket(t *testing.T) {
	e, g, srv := slowReader(t, 40010)
	w := newWindowWatch(t, e, g)
	w.fill()
	if w.sent < 1<<20 {
		t.Fatalf("socket full after %d bytes", w.sent)
	}
	t.Logf("socket full after %d bytes", w.sent)
	// Drain the host side: a window update must come without guest data.
	go io.CopyN(io.Discard, srv, int64(w.sent))
	deadline := time.Now().Add(3 * time.Second)
	for w.room() < 1<<20 && time.Now().Before(deadline) {
		e.poll(10)
		e.now += ackInterval
		e.h.Tick(e.now)
		w.track()
	}
	if w.room() < 1<<20 {
		t.Fatalf("no window update: %d bytes of window", w.room())
	}
	w.fill()
}

// TestWindowUpdateOnDrain: once the guest has sent up to the window's
// edge, the window update must come from the socket draining (EPOLLOUT),
// not from the ACK timer, every time. The host reads the socket down to
// 60% of SO_SNDBUF, just writable for the kernel, and the guest fills it
// again, eight times, with no Tick. EPOLLOUT is edge-triggered and TCP
// signals write space only after the socket was seen full; the writes
// the window allows never hit a full socket, so the handler has to re-arm
// EPOLLOUT with every low window (checkLowWindow). Without that, the second
// round waited for the timer: up to 50 ms in which the guest could not
// send.
func TestWindowUpdateOnDrain(t *testing.T) {
	e, g, srv := slowReader(t, 40011)
	w := newWindowWatch(t, e, g)
	read := 0
	for round := range 8 {
		w.fill()
		sndbuf, queued := w.meminfo()
		n := int(queued - sndbuf*6/10)
		if n <= 0 {
			t.Fatalf("round %d: %d of %d queued after the fill", round, queued, sndbuf)
		}
		if m, err := io.CopyN(io.Discard, srv, int64(n)); err != nil {
			t.Fatalf("round %d: read %d of %d: %v", round, m, n, err)
		}
		read += n
		deadline := time.Now().Add(time.Second)
		for w.room() <= 0 && time.Now().Before(deadline) {
			e.poll(10)
			w.track()
		}
		if w.room() <= 0 {
			_, queued = w.meminfo()
			t.Fatalf("round %d: no window update after the host read %d bytes (%d of %d queued)", round, n, queued, sndbuf)
		}
	}
	t.Logf("%d bytes sent, %d read", w.sent, read)
}

func TestCompaction(t *testing.T) {
	const n = 40
	e := newEnv(t, n)
	ln, port := hostListener(t, "127.0.0.1")
	gs := make([]*gconn, n)
	srvs := make([]interface {
		Write([]byte) (int, error)
	}, n)
	for i := range n {
		gs[i] = e.connect(netip.AddrPortFrom(guest4, uint16(41000+i)), netip.AddrPortFrom(gw4, port))
		srvs[i] = accept(t, ln)
	}
	// The table is full: one more SYN is refused.
	extra := &gconn{e: e, local: netip.AddrPortFrom(guest4, 42000), remote: netip.AddrPortFrom(gw4, port), seq: 1, wnd: 100}
	extra.send(l2.TCPFlagSyn, nil)
	if r := e.waitSeg("RST", hasFlags(l2.TCPFlagRst)); r.dst != extra.local {
		t.Fatalf("RST to %v", r.dst)
	}
	// Close the even ones, many in one wake-up.
	for i := 0; i < n; i += 2 {
		var f l2.Frame
		f.Parse(gs[i].frame(l2.TCPFlagRst|l2.TCPFlagAck, gs[i].seq, nil))
		e.h.HandleTap(&f, e.now)
	}
	e.h.endWakeup(e.now)
	if e.h.Len() != n/2 || e.h.tab.n != n/2 {
		t.Fatalf("Len %d, slots %d; want %d", e.h.Len(), e.h.tab.n, n/2)
	}
	// Every survivor still maps frames and socket events to itself.
	for i := 1; i < n; i += 2 {
		if idx := e.h.tab.lookup(gs[i].local, gs[i].remote); idx < 0 || e.h.tab.conns[idx].local != gs[i].local {
			t.Fatalf("conn %d lost", i)
		}
		srvs[i].Write([]byte{byte(i)})
		d := e.waitSeg("data", func(s seg) bool { return len(s.payload) > 0 })
		if d.dst != gs[i].local || d.payload[0] != byte(i) {
			t.Fatalf("data for %v on %v", gs[i].local, d.dst)
		}
	}
	for i := 0; i < n; i += 2 {
		if e.h.tab.lookup(gs[i].local, gs[i].remote) >= 0 {
			t.Fatalf("closed conn %d still hashed", i)
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("SYN to guest unanswered", func(t *testing.T) {
		e := newEnv(t, 4, listenerAny("127.0.0.1"))
		go dialQuiet("127.0.0.1", e.h.ListenPorts()[0])
		e.waitSeg("SYN", hasFlags(l2.TCPFlagSyn))
		syns := 1
		for range 12 {
			e.now += int64(time.Second)
			e.h.Tick(e.now)
			for _, b := range e.take() {
				s := e.parse(b)
				if s.flags&l2.TCPFlagSyn != 0 {
					syns++
				}
				if s.flags&l2.TCPFlagRst != 0 {
					if e.h.Len() != 0 {
						t.Fatalf("Len = %d after RST", e.h.Len())
					}
					if syns < 3 {
						t.Errorf("%d SYNs before giving up", syns)
					}
					return
				}
			}
		}
		t.Fatal("no RST after the SYN timeout")
	})
	t.Run("data never acked", func(t *testing.T) {
		e := newEnv(t, 4)
		ln, port := hostListener(t, "127.0.0.1")
		g := e.connect(netip.AddrPortFrom(guest4, 40020), netip.AddrPortFrom(gw4, port))
		srv := accept(t, ln)
		srv.Write([]byte("data"))
		first := e.waitSeg("data", func(s seg) bool { return len(s.payload) > 0 })
		resends := 0
		for range 20 {
			e.now += ackTimeout + 1
			e.h.Tick(e.now)
			for _, b := range e.take() {
				s := e.parse(b)
				if s.flags&l2.TCPFlagRst != 0 {
					if resends != maxRetrans {
						t.Errorf("%d retransmissions before RST, want %d", resends, maxRetrans)
					}
					if e.h.Len() != 0 {
						t.Fatalf("Len = %d", e.h.Len())
					}
					return
				}
				if string(s.payload) == "data" && s.seq == first.seq {
					resends++
				}
			}
		}
		_ = g
		t.Fatal("no RST")
	})
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t, 4)
		ln, port := hostListener(t, "127.0.0.1")
		e.connect(netip.AddrPortFrom(guest4, 40021), netip.AddrPortFrom(gw4, port))
		accept(t, ln)
		e.now += actTimeout - int64(time.Second)
		e.h.Tick(e.now)
		if e.h.Len() != 1 {
			t.Fatal("closed before the activity timeout")
		}
		e.now += 2 * int64(time.Second)
		e.h.Tick(e.now)
		if e.h.Len() != 0 {
			t.Fatal("open after the activity timeout")
		}
	})
}
