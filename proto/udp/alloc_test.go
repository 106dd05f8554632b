// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"bytes"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// allocEnv is a handler on an untracked epoll poller with a counting tap,
// so that only the handler's allocations are measured.
func allocEnv(t testing.TB, capacity int) (*Handler, *flowtest.Poller, *flowtest.Tap) {
	t.Helper()
	p := flowtest.NewPoller(t)
	p.Live = nil
	tap := &flowtest.Tap{Discard: true}
	h, err := New(Config{Net: testNet(), Poller: p, Tap: tap, Capacity: capacity, Batch: 32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, p, tap
}

func parsed(t testing.TB, frame []byte) *l2.Frame {
	t.Helper()
	f := new(l2.Frame)
	if err := f.Parse(frame); err != nil {
		t.Fatal(err)
	}
	return f
}

// peerSocket returns a socket connected to the first flow's host socket:
// what the remote end of the flow would send from.
func peerSocket(t testing.TB, h *Handler, srv *udpServer) int {
	t.Helper()
	var peer netip.AddrPort
	select {
	case peer = <-srv.peers:
	case <-time.After(3 * time.Second):
		t.Fatal("server saw nothing")
	}
	srv.conn.Close() // the echo goroutine stops; the peer socket takes its place
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: srv.addr.Addr().As4(), Port: int(srv.addr.Port())}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: peer.Addr().As4(), Port: int(peer.Port())}); err != nil {
		t.Fatal(err)
	}
	return fd
}

func flowRef(h *Handler, idx int) flow.Ref {
	return flow.Ref{Kind: flow.KindUDP, Index: uint32(idx), Fd: h.tbl.At(idx).fd}
}

func TestAllocs(t *testing.T) {
	t.Run("tap to socket", func(t *testing.T) {
		sink := newServer(t, lo4, false)
		h, _, _ := allocEnv(t, 4)
		f := parsed(t, l2test.UDP4(ap(guestV4, 41000), ap(hostLoV4, sink.addr.Port()), bytes.Repeat([]byte("x"), 1400)))
		h.HandleTap(f, 0)
		h.End(0)
		if a := testing.AllocsPerRun(200, func() { h.HandleTap(f, 0); h.HandleTap(f, 0); h.End(0) }); a != 0 {
			t.Errorf("%v allocations per datagram pair", a)
		}
		if h.Counts().FromGuest < 400 {
			t.Errorf("stats %+v", h.Counts())
		}
	})
	t.Run("new flow", func(t *testing.T) {
		sink := newServer(t, lo4, false)
		h, _, _ := allocEnv(t, 200)
		var frames []*l2.Frame
		for i := range 150 {
			frames = append(frames, parsed(t, l2test.UDP4(ap(guestV4, uint16(42000+i)), ap(hostLoV4, sink.addr.Port()), []byte("x"))))
		}
		i := 0
		if a := testing.AllocsPerRun(100, func() { h.HandleTap(frames[i], 0); h.End(0); i++ }); a != 0 {
			t.Errorf("%v allocations per new flow", a)
		}
		if h.Len() != i {
			t.Errorf("Len %d, want %d", h.Len(), i)
		}
	})
	t.Run("socket to tap", func(t *testing.T) {
		srv := newServer(t, lo4, true)
		h, _, tap := allocEnv(t, 4)
		h.HandleTap(parsed(t, l2test.UDP4(ap(guestV4, 41001), ap(hostLoV4, srv.addr.Port()), []byte("x"))), 0)
		h.End(0)
		fd := peerSocket(t, h, srv)
		msg := bytes.Repeat([]byte("y"), 1400)
		ref := flowRef(h, 0)
		if a := testing.AllocsPerRun(200, func() {
			unix.Write(fd, msg)
			unix.Write(fd, msg)
			h.HandleSock(ref, unix.EPOLLIN, 0)
			h.End(0)
		}); a != 0 {
			t.Errorf("%v allocations per batch", a)
		}
		if tap.Count < 200 {
			t.Errorf("tap got %d frames", tap.Count)
		}
	})
	t.Run("icmp error", func(t *testing.T) {
		sink := newServer(t, lo4, false)
		h, _, tap := allocEnv(t, 4)
		h.HandleTap(parsed(t, l2test.UDP4(ap(guestV4, 41002), ap(hostLoV4, sink.addr.Port()), []byte("x"))), 0)
		h.End(0)
		ee := extErr{origin: unix.SO_EE_ORIGIN_ICMP, typ: 3, code: 3, offender: lo4}
		data := []byte("x")
		if a := testing.AllocsPerRun(200, func() { h.icmpError(h.tbl.At(0), &ee, data); h.End(0) }); a != 0 {
			t.Errorf("%v allocations per ICMP error", a)
		}
		if tap.Count < 200 {
			t.Errorf("tap got %d frames", tap.Count)
		}
	})
}

func BenchmarkTapToSock(b *testing.B) {
	for _, size := range []int{64, 1400, 32000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			sink := newServer(b, lo4, false)
			h, _, _ := allocEnv(b, 4)
			f := parsed(b, l2test.UDP4(ap(guestV4, 41003), ap(hostLoV4, sink.addr.Port()), bytes.Repeat([]byte("x"), size)))
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				h.HandleTap(f, 0)
				if i%32 == 31 {
					h.End(0)
				}
			}
			h.End(0)
		})
	}
}

func BenchmarkSockToTap(b *testing.B) {
	for _, size := range []int{64, 1400} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			srv := newServer(b, lo4, true)
			h, _, tap := allocEnv(b, 4)
			h.HandleTap(parsed(b, l2test.UDP4(ap(guestV4, 41004), ap(hostLoV4, srv.addr.Port()), []byte("x"))), 0)
			h.End(0)
			fd := peerSocket(b, h, srv)
			msg := bytes.Repeat([]byte("y"), size)
			ref := flowRef(h, 0)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				unix.Write(fd, msg)
				h.HandleSock(ref, unix.EPOLLIN, 0)
				h.End(0)
			}
			b.ReportMetric(float64(tap.Count)/float64(b.N), "frames/op")
		})
	}
}
