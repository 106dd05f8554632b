// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
	"gopasst/fwd"
	"gopasst/policy"
)

// rawPair is one relayed connection driven by hand on the test goroutine:
// client and server are blocking sockets, h is stepped explicitly.
type rawPair struct {
	h              *Handler
	p              *flowtest.Poller
	client, server int
}

func newRawPair(tb testing.TB) *rawPair {
	tb.Helper()
	p := newPoller(tb)
	h, err := New(Config{Poller: p, NsSocket: hostSocket, Capacity: 4})
	if err != nil {
		tb.Fatal(err)
	}
	srvLn, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	lo := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := unix.Bind(srvLn, lo); err != nil {
		tb.Fatal(err)
	}
	unix.Listen(srvLn, 4)
	if err := h.Listen(policy.Listener{Bind: netip.MustParseAddr("127.0.0.1"), ToPort: fwd.LocalPort(srvLn)}); err != nil {
		tb.Fatal(err)
	}
	rp := &rawPair{h: h, p: p}
	tb.Cleanup(func() {
		h.Close()
		unix.Close(rp.client)
		unix.Close(rp.server)
		unix.Close(srvLn)
		p.Close()
	})
	rp.client, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := unix.Connect(rp.client, &unix.SockaddrInet4{Addr: lo.Addr, Port: int(h.listeners[0].port)}); err != nil {
		tb.Fatal(err)
	}
	for range 100 {
		step(p, h, 10)
		if h.Len() == 1 && h.conns[0].ev&evEstablished != 0 {
			break
		}
	}
	if h.Len() != 1 || h.conns[0].ev&evEstablished == 0 {
		tb.Fatal("connection not established")
	}
	rp.server, _, err = unix.Accept(srvLn)
	if err != nil {
		tb.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	for _, fd := range []int{rp.client, rp.server} {
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	}
	return rp
}

// ref returns the epoll reference of one side of the connection.
func (rp *rawPair) ref(side int) flow.Ref { return connRef(&rp.h.conns[0], 0, side) }

// readFull reads len(b) bytes from a blocking socket; false on error.
func readFull(fd int, b []byte) bool {
	for off := 0; off < len(b); {
		n, err := unix.Read(fd, b[off:])
		if err != nil || n <= 0 {
			return false
		}
		off += n
	}
	return true
}

// roundTrip moves chunk from client to server and back through h.
func (rp *rawPair) roundTrip(chunk, buf []byte) bool {
	if n, err := unix.Write(rp.client, chunk); err != nil || n != len(chunk) {
		return false
	}
	rp.h.HandleSock(rp.ref(0), unix.EPOLLIN, 0)
	if !readFull(rp.server, buf) {
		return false
	}
	if n, err := unix.Write(rp.server, chunk); err != nil || n != len(chunk) {
		return false
	}
	rp.h.HandleSock(rp.ref(1), unix.EPOLLIN, 0)
	return readFull(rp.client, buf)
}

func TestRelayAllocs(t *testing.T) {
	rp := newRawPair(t)
	chunk, buf := make([]byte, 64<<10), make([]byte, 64<<10)
	ok := true
	allocs := testing.AllocsPerRun(100, func() { ok = ok && rp.roundTrip(chunk, buf) })
	if !ok {
		t.Fatal("round trip failed")
	}
	if allocs != 0 {
		t.Fatalf("%v allocations per relayed chunk, want 0", allocs)
	}
	if got := rp.h.counts.BytesToHost; got != 101*64<<10 {
		t.Fatalf("BytesToHost %d", got)
	}
}

func BenchmarkRelay(b *testing.B) {
	rp := newRawPair(b)
	chunk, buf := make([]byte, 256<<10), make([]byte, 256<<10)
	b.SetBytes(2 * int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if !rp.roundTrip(chunk, buf) {
			b.Fatal("round trip failed")
		}
	}
}
