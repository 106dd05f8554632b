// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"gopasst/flow/flowtest"
	"gopasst/policy"
	"gopasst/proto/l2"
)

type family struct {
	name          string
	loop          string
	guest, mapped netip.Addr
}

var families = []family{
	{"IPv4", "127.0.0.1", guest4, gw4},
	{"IPv6", "::1", guest6, gw6},
}

// hostListener listens on loopback and returns the listener and its port.
func hostListener(t *testing.T, loop string) (*net.TCPListener, uint16) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.ParseIP(loop)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

func accept(t *testing.T, ln *net.TCPListener) *net.TCPConn {
	t.Helper()
	ln.SetDeadline(time.Now().Add(3 * time.Second))
	c, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOutboundDataAndClose(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			e := newEnv(t, 16)
			ln, port := hostListener(t, fam.loop)
			g := e.connect(netip.AddrPortFrom(fam.guest, 40000), netip.AddrPortFrom(fam.mapped, port))
			srv := accept(t, ln)
			if e.h.Len() != 1 {
				t.Fatalf("Len = %d", e.h.Len())
			}

			// Guest → host.
			g.send(l2.TCPFlagAck|l2.TCPFlagPsh, []byte("hello"))
			a := e.waitSeg("ACK of data", func(s seg) bool { return s.ack == g.seq })
			if a.wnd == 0 {
				t.Errorf("zero window")
			}
			buf := make([]byte, 16)
			srv.SetReadDeadline(time.Now().Add(2 * time.Second))
			if n, err := io.ReadFull(srv, buf[:5]); err != nil || string(buf[:n]) != "hello" {
				t.Fatalf("host read %q, %v", buf[:n], err)
			}

			// Host → guest.
			srv.Write([]byte("world"))
			d := e.waitSeg("data", func(s seg) bool { return len(s.payload) > 0 })
			if string(d.payload) != "world" || d.seq != g.ack || d.ack != g.seq {
				t.Fatalf("data %q seq %d ack %d, want seq %d ack %d", d.payload, d.seq, d.ack, g.ack, g.seq)
			}
			if d.src != g.remote || d.dst != g.local {
				t.Fatalf("data %v → %v", d.src, d.dst)
			}
			g.ack += 5
			g.send(l2.TCPFlagAck, nil)
			srv.Write([]byte("again"))
			d = e.waitSeg("more data", func(s seg) bool { return len(s.payload) > 0 })
			if string(d.payload) != "again" || d.seq != g.ack {
				t.Fatalf("data %q seq %d, want again at %d (acked bytes not consumed?)", d.payload, d.seq, g.ack)
			}
			g.ack += 5
			g.send(l2.TCPFlagAck, nil)

			// Guest closes first: the host reads EOF.
			g.send(l2.TCPFlagFin|l2.TCPFlagAck, nil)
			e.waitSeg("ACK of FIN", func(s seg) bool { return s.ack == g.seq })
			if n, err := srv.Read(buf); err != io.EOF {
				t.Fatalf("host read %d, %v; want EOF", n, err)
			}
			// The host can still send, then closes.
			srv.Write([]byte("bye"))
			d = e.waitSeg("data after half-close", func(s seg) bool { return len(s.payload) > 0 })
			if string(d.payload) != "bye" {
				t.Fatalf("got %q", d.payload)
			}
			g.ack += 3
			g.send(l2.TCPFlagAck, nil)
			srv.Close()
			f := e.waitSeg("FIN", hasFlags(l2.TCPFlagFin))
			if f.seq != g.ack {
				t.Fatalf("FIN seq %d, want %d", f.seq, g.ack)
			}
			g.ack++
			g.send(l2.TCPFlagAck, nil)
			if e.h.Len() != 0 {
				t.Fatalf("Len = %d after close", e.h.Len())
			}
		})
	}
}

func TestInboundForward(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			e := newEnv(t, 16, policy.Listener{Bind: netip.MustParseAddr(fam.loop), ToPort: 8080})
			port := e.h.ListenPorts()[0]
			clientDone := make(chan error, 1)
			var client net.Conn
			go func() {
				c, err := net.DialTimeout("tcp", net.JoinHostPort(fam.loop, itoa(port)), 2*time.Second)
				client = c
				clientDone <- err
			}()
			syn := e.waitSeg("SYN", hasFlags(l2.TCPFlagSyn))
			if err := <-clientDone; err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			cport := uint16(client.LocalAddr().(*net.TCPAddr).Port)
			if syn.src != netip.AddrPortFrom(fam.mapped, cport) || syn.dst != netip.AddrPortFrom(fam.guest, 8080) {
				t.Fatalf("SYN %v → %v; want source port %d kept", syn.src, syn.dst, cport)
			}
			if syn.flags&l2.TCPFlagAck != 0 || !syn.opts.HasWS || !syn.opts.HasMSS {
				t.Fatalf("SYN flags %v opts %+v", syn.flags, syn.opts)
			}
			g := &gconn{e: e, local: syn.dst, remote: syn.src, seq: 5000, ack: syn.seq + 1, wnd: 0xffff}
			g.send(l2.TCPFlagSyn|l2.TCPFlagAck, nil)
			e.waitSeg("ACK of SYN+ACK", func(s seg) bool { return s.ack == g.seq && s.flags&l2.TCPFlagSyn == 0 })

			client.Write([]byte("ping"))
			d := e.waitSeg("data", func(s seg) bool { return len(s.payload) > 0 })
			if string(d.payload) != "ping" || d.seq != g.ack {
				t.Fatalf("got %q at %d", d.payload, d.seq)
			}
			g.ack += 4
			g.send(l2.TCPFlagAck|l2.TCPFlagPsh, []byte("pong"))
			buf := make([]byte, 4)
			client.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "pong" {
				t.Fatalf("client read %q %v", buf, err)
			}
			// Host closes first.
			client.Close()
			f := e.waitSeg("FIN", hasFlags(l2.TCPFlagFin))
			g.ack = f.seq + 1
			g.send(l2.TCPFlagFin|l2.TCPFlagAck, nil)
			if e.h.Len() != 0 {
				t.Fatalf("Len = %d", e.h.Len())
			}
		})
	}
}

func itoa(p uint16) string {
	var b [5]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + p%10)
		p /= 10
		if p == 0 {
			return string(b[i:])
		}
	}
}

func TestRefused(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			e := newEnv(t, 16)
			ln, port := hostListener(t, fam.loop)
			ln.Close() // nothing listens on port now
			g := &gconn{e: e, local: netip.AddrPortFrom(fam.guest, 40001), remote: netip.AddrPortFrom(fam.mapped, port), seq: 77, wnd: 0xffff}
			start := time.Now()
			g.send(l2.TCPFlagSyn, nil)
			r := e.waitSeg("RST", hasFlags(l2.TCPFlagRst))
			if time.Since(start) > time.Second {
				t.Errorf("RST after %v", time.Since(start))
			}
			if r.flags&l2.TCPFlagAck == 0 || r.ack != 78 {
				t.Errorf("RST flags %v ack %d, want ACK of 78", r.flags, r.ack)
			}
			e.poll(0)
			if e.h.Len() != 0 {
				t.Fatalf("Len = %d", e.h.Len())
			}
		})
	}
}

func TestReset(t *testing.T) {
	t.Run("from guest", func(t *testing.T) {
		e := newEnv(t, 16)
		ln, port := hostListener(t, "127.0.0.1")
		g := e.connect(netip.AddrPortFrom(guest4, 40002), netip.AddrPortFrom(gw4, port))
		srv := accept(t, ln)
		g.send(l2.TCPFlagRst|l2.TCPFlagAck, nil)
		srv.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := srv.Read(make([]byte, 1))
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("host read: %v, want ECONNRESET", err)
		}
		if e.h.Len() != 0 {
			t.Fatalf("Len = %d", e.h.Len())
		}
	})
	t.Run("from host", func(t *testing.T) {
		e := newEnv(t, 16)
		ln, port := hostListener(t, "127.0.0.1")
		g := e.connect(netip.AddrPortFrom(guest4, 40003), netip.AddrPortFrom(gw4, port))
		srv := accept(t, ln)
		srv.SetLinger(0)
		srv.Close()
		r := e.waitSeg("RST", hasFlags(l2.TCPFlagRst))
		if r.seq != g.ack {
			t.Errorf("RST seq %d, want %d", r.seq, g.ack)
		}
		if e.h.Len() != 0 {
			t.Fatalf("Len = %d", e.h.Len())
		}
	})
	t.Run("no connection", func(t *testing.T) {
		e := newEnv(t, 16)
		g := &gconn{e: e, local: netip.AddrPortFrom(guest4, 1), remote: netip.AddrPortFrom(gw4, 2), seq: 10, ack: 99, wnd: 100}
		g.send(l2.TCPFlagAck, []byte("x"))
		r := e.waitSeg("RST", hasFlags(l2.TCPFlagRst))
		if r.seq != 99 {
			t.Errorf("RST seq %d, want 99", r.seq)
		}
	})
}

func TestDupAckRewind(t *testing.T) {
	e := newEnv(t, 16)
	e.net.MTU = 1500 // not used after New; the guest's MSS decides
	ln, port := hostListener(t, "127.0.0.1")
	g := e.connect(netip.AddrPortFrom(guest4, 40004), netip.AddrPortFrom(gw4, port))
	srv := accept(t, ln)
	data := bytes.Repeat([]byte("0123456789"), 500) // 5000 bytes: 4 segments of MSS 1460
	srv.Write(data)
	var got []seg
	for len(got) == 0 || got[len(got)-1].seq+uint32(len(got[len(got)-1].payload)) != g.ack+5000 {
		got = append(got, e.waitSeg("data", func(s seg) bool { return len(s.payload) > 0 }))
	}
	if len(got) < 4 {
		t.Fatalf("%d segments for 5000 bytes at MSS 1460", len(got))
	}
	// The guest lost the second segment: it acks the first, three times.
	g.ack += uint32(len(got[0].payload))
	g.send(l2.TCPFlagAck, nil)
	g.send(l2.TCPFlagAck, nil)
	g.send(l2.TCPFlagAck, nil)
	r := e.waitSeg("retransmission", func(s seg) bool { return len(s.payload) > 0 })
	if r.seq != g.ack || !bytes.Equal(r.payload, data[len(got[0].payload):len(got[0].payload)+len(r.payload)]) {
		t.Fatalf("retransmission at %d (want %d)", r.seq, g.ack)
	}
	if e.h.counts.DupAckRewinds != 1 {
		t.Errorf("DupAckRewinds = %d", e.h.counts.DupAckRewinds)
	}
}

func TestOutOfOrderFromGuest(t *testing.T) {
	e := newEnv(t, 16)
	ln, port := hostListener(t, "127.0.0.1")
	g := e.connect(netip.AddrPortFrom(guest4, 40005), netip.AddrPortFrom(gw4, port))
	srv := accept(t, ln)
	// Segment 1 is lost; segments 2 and 3 each get a duplicate ACK at once.
	for i := range 2 {
		e.take()
		e.tapIn(g.frame(l2.TCPFlagAck, g.seq+100*uint32(i+1), bytes.Repeat([]byte{'b'}, 100)))
		fs := e.take()
		if len(fs) != 1 {
			t.Fatalf("%d frames for out-of-order segment %d, want one duplicate ACK", len(fs), i)
		}
		if s := e.parse(fs[0]); s.ack != g.seq {
			t.Fatalf("dup ACK acks %d, want %d", s.ack, g.seq)
		}
	}
	g.send(l2.TCPFlagAck, bytes.Repeat([]byte{'a'}, 100))
	e.waitSeg("ACK", func(s seg) bool { return s.ack == g.seq })
	buf := make([]byte, 200)
	srv.SetReadDeadline(time.Now().Add(time.Second))
	n, _ := srv.Read(buf)
	if n != 100 || buf[0] != 'a' {
		t.Fatalf("host got %d bytes", n)
	}
	if e.h.counts.OutOfOrder != 2 {
		t.Errorf("OutOfOrder = %d", e.h.counts.OutOfOrder)
	}
}

// TestWindowProbeAnswered: a zero-window probe (or keep-alive) from the
// guest, a pure ACK at RCV.NXT-1, gets an ACK with our window at once.
// Without it a lost window update leaves the guest probing forever.
func TestWindowProbeAnswered(t *testing.T) {
	e := newEnv(t, 16)
	_, port := hostListener(t, "127.0.0.1")
	g := e.connect(netip.AddrPortFrom(guest4, 40006), netip.AddrPortFrom(gw4, port))
	e.poll(0)
	e.take()
	e.tapIn(g.frame(l2.TCPFlagAck, g.seq-1, nil))
	fs := e.take()
	if len(fs) != 1 {
		t.Fatalf("%d frames for a window probe, want one ACK", len(fs))
	}
	if s := e.parse(fs[0]); s.ack != g.seq || s.flags != l2.TCPFlagAck || s.wnd == 0 {
		t.Fatalf("probe answered with ack %d flags %v window %d; want ack %d and an open window", s.ack, s.flags, s.wnd, g.seq)
	}
	// A pure ACK in sequence is not answered.
	e.tapIn(g.frame(l2.TCPFlagAck, g.seq, nil))
	if fs := e.take(); len(fs) != 0 {
		t.Fatalf("%d frames for a pure ACK", len(fs))
	}
}

// flushTap is a flowtest.Tap that can be flushed (flow.Flusher), as the
// engine's: it records how often.
type flushTap struct {
	*flowtest.Tap
	flushes int
}

func (f *flushTap) Flush() bool { f.flushes++; return true }

// TestFlushWhenOutOfFrames: at MTU 1500 a wide guest window takes more
// than one batch of frames; with a flushable tap, one socket event sends
// all of it in the same wake-up (flushing between batches) instead of
// waiting for the next one.
func TestFlushWhenOutOfFrames(t *testing.T) {
	e := newEnvTap(t, 4, 1500, true)
	h, ft := e.h, e.flush
	ln, port := hostListener(t, "127.0.0.1")
	g := e.connect(netip.AddrPortFrom(guest4, 40020), netip.AddrPortFrom(gw4, port))
	srv := accept(t, ln)
	g.wnd = 0xffff // scaled by 7: 8 MiB
	g.send(l2.TCPFlagAck, nil)
	e.take()

	const size = 1 << 20 // 719 frames of 1460 bytes
	// Room for all of it in our socket's receive queue, which we peek.
	e.roomForBulk(srv)
	if _, err := srv.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	e.poll(100)
	got := 0
	for _, b := range e.take() {
		got += len(e.parse(b).payload)
	}
	if got != size {
		t.Fatalf("one wake-up sent %d bytes of %d (flushes %d, FramesShort %d)", got, size, ft.flushes, h.counts.FramesShort)
	}
	if ft.flushes < size/1460/batchFrames || h.counts.Flushes != uint64(ft.flushes) {
		t.Fatalf("%d flushes (Stats %d) for %d frames of %d per batch", ft.flushes, h.counts.Flushes, size/1460+1, batchFrames)
	}
}
