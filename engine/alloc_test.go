// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
	"gopasst/tap"
)

// countingHandler is a flow.Handler that counts calls and answers every
// frame and event with a fixed frame through the engine's Tap.
type countingHandler struct {
	claim                       flow.Claim
	tap                         flow.Tap
	reply                       [][]byte
	frames, socks, begins, ends int
	ticks                       int
	lastRef                     flow.Ref
}

func (c *countingHandler) Claim() flow.Claim { return c.claim }
func (c *countingHandler) HandleTap(f *l2.Frame, now int64) flow.Verdict {
	c.frames++
	if c.tap != nil && c.reply != nil {
		c.tap.Send(c.reply)
	}
	return flow.Accept
}
func (c *countingHandler) HandleSock(ref flow.Ref, events uint32, now int64) {
	c.socks++
	c.lastRef = ref
	var b [8]byte
	unix.Read(int(ref.Fd), b[:]) // an eventfd in the tests
	if c.tap != nil && c.reply != nil {
		c.tap.Send(c.reply)
	}
}
func (c *countingHandler) Begin(now int64)   { c.begins++ }
func (c *countingHandler) End(now int64)     { c.ends++ }
func (c *countingHandler) Tick(now int64)    { c.ticks++ }
func (c *countingHandler) Stats() flow.Stats { return flow.Stats{flow.Opens: uint64(c.frames)} }

// newDirect returns an Engine that the test drives by calling iterate,
// without Run, and the raw fd of the guest's end.
func newDirect(tb testing.TB) (*Engine, int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	dev := tap.NewStream(fds[0])
	e, err := New(Config{Net: testNet(), Device: dev, Batch: 8})
	if err != nil {
		tb.Fatal(err)
	}
	addServices(tb, e)
	unix.SetNonblock(fds[1], true)
	e.start(monotime()) // as Run: the unsolicited RA goes out
	unix.Read(fds[1], make([]byte, 1<<16))
	tb.Cleanup(func() { e.Close(); dev.Close(); unix.Close(fds[1]) })
	return e, fds[1]
}

func framedBytes(f []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(f))), f...)
}

// TestSteadyStateAllocs sends one frame per iteration through the whole
// wake-up (epoll_pwait, read, parse, dispatch, reply, flush) and expects no
// allocation.
func TestSteadyStateAllocs(t *testing.T) {
	dhcpReq := l2test.UDP4(netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
		netip.AddrPortFrom(netip.MustParseAddr("255.255.255.255"), 67),
		dhcpDiscover(l2test.GuestMAC, 7, false), l2test.WithDstMAC(l2.BroadcastMAC))
	tests := []struct {
		name    string
		frame   []byte
		replies bool
	}{
		{"ARP request", l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4), true},
		{"DHCP discover", dhcpReq, true},
		{"router solicitation", l2test.RouterSolicit(guestLL6), true},
		{"neighbour solicitation", l2test.NeighborSolicit(guestLL6, ourLL6), true},
		{"TCP to handler", l2test.TCP4(udpSrc4, udpDst4, l2test.ACK, 1, 1, []byte("data")), true},
		{"ICMP echo to handler", l2test.Echo4(guestAddr4, someAddr4, 1, 1, []byte("ping")), true},
		{"UDP without handler", l2test.UDP4(udpSrc4, udpDst4, []byte("x")), false},
		{"truncated", make([]byte, 9), false},
		{"bad IPv4 checksum", l2test.UDP4(udpSrc4, udpDst4, []byte("x"), l2test.WithBadIPChecksum()), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, peer := newDirect(t)
			h := &countingHandler{tap: e.Tap(), reply: [][]byte{l2test.UDP4(udpDst4, udpSrc4, []byte("reply"))}}
			h.claim = flow.Claim{Name: "test", Frames: flow.FramesOf(flow.FrameTCP, flow.FrameEcho)}
			if err := e.Add(h); err != nil {
				t.Fatal(err)
			}
			in := framedBytes(tc.frame)
			drain := make([]byte, 1<<16)
			step := func() {
				if _, err := unix.Write(peer, in); err != nil {
					t.Fatal(err)
				}
				if err := e.iterate(1000); err != nil {
					t.Fatal(err)
				}
				n, _ := unix.Read(peer, drain)
				if tc.replies != (n > 0) {
					t.Fatalf("reply read %d bytes, want a reply: %v; %s", n, tc.replies, e.st.Line())
				}
			}
			step() // warm up
			if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
				t.Fatalf("%v allocs per frame, want 0", allocs)
			}
		})
	}
}

// TestHandlerDispatch checks the flow contract: an fd added through Poller
// with a Ref reaches the handler that claimed its kind, with that Ref,
// frames sent from HandleSock reach the guest, Begin and End frame every
// wake-up, Tick runs when due, and the handler's counters reach the
// stats line under its name.
func TestHandlerDispatch(t *testing.T) {
	e, peer := newDirect(t)
	out0 := e.st.FramesOut
	h := &countingHandler{tap: e.Tap(), reply: [][]byte{l2test.UDP4(udpDst4, udpSrc4, []byte("from a socket"))}}
	h.claim = flow.Claim{Name: "test", Kinds: []flow.Kind{flow.KindUDP}, Counters: flow.CountersOf(flow.Opens)}
	if err := e.Add(h); err != nil {
		t.Fatal(err)
	}
	e.nextTick = 1 << 62 // no Tick until the test asks
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	ref := flow.Ref{Kind: flow.KindUDP, Index: 123456, Fd: int32(efd)}
	if err := e.Poller().Add(efd, unix.EPOLLIN, ref); err != nil {
		t.Fatal(err)
	}
	var one [8]byte
	one[0] = 1
	unix.Write(efd, one[:])
	if err := e.iterate(1000); err != nil {
		t.Fatal(err)
	}
	if h.socks != 1 || h.lastRef != ref {
		t.Fatalf("HandleSock calls = %d, ref = %+v; want 1, %+v", h.socks, h.lastRef, ref)
	}
	if h.begins != 1 || h.ends != 1 {
		t.Fatalf("Begin calls = %d, End calls = %d, want 1, 1", h.begins, h.ends)
	}
	buf := make([]byte, 4096)
	n, _ := unix.Read(peer, buf)
	if n < 4 || int(binary.BigEndian.Uint32(buf)) != len(h.reply[0]) || string(buf[4:n]) != string(h.reply[0]) {
		t.Fatalf("guest got %d bytes, want the handler's frame", n)
	}
	// No events: the timeout expires, Tick runs.
	e.nextTick = 0
	if err := e.iterate(1); err != nil {
		t.Fatal(err)
	}
	if h.ticks != 1 || h.begins != 2 || h.ends != 2 {
		t.Fatalf("Tick, Begin, End calls = %d, %d, %d, want 1, 2, 2", h.ticks, h.begins, h.ends)
	}
	if err := e.Poller().Del(efd); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.FramesOut != out0+1 {
		t.Fatalf("stats: %s", s.Line())
	}
	h.frames = 42
	e.nextTick = 0
	if err := e.iterate(1); err != nil {
		t.Fatal(err)
	}
	if l := e.Stats().Line(); !strings.HasSuffix(l, " test_opens=42") {
		t.Fatalf("stats line does not end with the handler's counter: %s", l)
	}
}

// TestAddRefusesConflicts: a kind or frame class has one owner, engine
// kinds none, and names are unique.
func TestAddRefusesConflicts(t *testing.T) {
	e, _ := newDirect(t) // the link services own ARP, NDP, DHCP, DHCPv6
	tests := []struct {
		name  string
		claim flow.Claim
		ok    bool
	}{
		{"tcp", flow.Claim{Name: "tcp", Kinds: []flow.Kind{flow.KindTCP}, Frames: flow.FramesOf(flow.FrameTCP)}, true},
		{"same kind", flow.Claim{Name: "x", Kinds: []flow.Kind{flow.KindTCP}}, false},
		{"same frames", flow.Claim{Name: "y", Frames: flow.FramesOf(flow.FrameARP)}, false},
		{"tap kind", flow.Claim{Name: "z", Kinds: []flow.Kind{flow.KindTap}}, false},
		{"engine kind", flow.Claim{Name: "w", Kinds: []flow.Kind{flow.KindEngine}}, false},
		{"no kind", flow.Claim{Name: "v", Kinds: []flow.Kind{0}}, false},
		{"same name", flow.Claim{Name: "tcp", Kinds: []flow.Kind{flow.KindUDP}}, false},
	}
	for _, tc := range tests {
		err := e.Add(&countingHandler{claim: tc.claim})
		if (err == nil) != tc.ok {
			t.Errorf("%s: Add = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestSendQueueOverflow sends more frames than the output queue holds in
// one wake-up: the queue is flushed early and nothing is lost.
func TestSendQueueOverflow(t *testing.T) {
	e, peer := newDirect(t)
	out0 := e.st.FramesOut
	unix.SetsockoptInt(e.dev.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
	f := l2test.UDP4(udpDst4, udpSrc4, []byte("x"))
	frames := make([][]byte, maxOut*2+5)
	for i := range frames {
		frames[i] = f
	}
	e.Tap().Send(frames)
	e.flush()
	s := e.st
	if s.FramesOut != out0+uint64(len(frames)) || s.TapFull != 0 {
		t.Fatalf("stats: %s", s.Line())
	}
	_ = peer
}

func BenchmarkARPRequestReply(b *testing.B) {
	e, peer := newDirect(b)
	in := framedBytes(l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4))
	drain := make([]byte, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		unix.Write(peer, in)
		if err := e.iterate(1000); err != nil {
			b.Fatal(err)
		}
		unix.Read(peer, drain)
	}
}

// BenchmarkDispatch is the per-frame cost without system calls: parse,
// dispatch, build the ARP reply, queue it.
func BenchmarkDispatch(b *testing.B) {
	e, _ := newDirect(b)
	f := l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4)
	b.ReportAllocs()
	for b.Loop() {
		e.begin(0)
		e.handleFrame(f, 0, 0)
		e.out = e.out[:0]
	}
}
