// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
	"gopasst/guest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

var (
	guestV4  = netip.MustParseAddr("10.0.2.15")
	hostLoV4 = netip.MustParseAddr("10.0.2.2") // --map-host-loopback
	guestV6  = netip.MustParseAddr("fd00::15")
	hostLoV6 = netip.MustParseAddr("fd00::2")
)

func testNet() *guest.Net {
	return &guest.Net{
		OurMAC:   guest.MAC(l2test.OurMAC),
		GuestMAC: guest.MAC(l2test.GuestMAC),
		V4:       guest.Family{Addr: guestV4, PrefixLen: 24, MapHostLo: hostLoV4},
		V6:       guest.Family{Addr: guestV6, PrefixLen: 64, MapHostLo: hostLoV6},
	}
}

func parse(t *testing.T, frame []byte) *l2.Frame {
	t.Helper()
	var f l2.Frame
	if err := f.Parse(frame); err != nil {
		t.Fatalf("parse request: %v", err)
	}
	return &f
}

// pump waits for the handler's sockets and feeds their events to it until
// the tap has want frames or the deadline passes.
func pump(t *testing.T, h *Handler, p *flowtest.Poller, tap *flowtest.Tap, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(tap.Frames) < want && time.Now().Before(deadline) {
		for _, ev := range p.Wait(t, 100*time.Millisecond) {
			ref := ev.Ref
			if ref.Kind != flow.KindPing {
				t.Fatalf("event with kind %d", ref.Kind)
			}
			h.HandleSock(ref, unix.EPOLLIN, 0)
		}
		h.End(0)
	}
	if len(tap.Frames) != want {
		t.Fatalf("tap got %d frames, want %d", len(tap.Frames), want)
	}
}

func TestEchoLoopback(t *testing.T) {
	enablePingSockets(t)
	payload := bytes.Repeat([]byte("gopasst!"), 100)
	tests := []struct {
		name  string
		v6    bool
		guest netip.Addr
		dst   netip.Addr
		build func(src, dst netip.Addr, ident, seq uint16, payload []byte, opts ...l2test.Option) []byte
	}{
		{"ipv4", false, guestV4, hostLoV4, l2test.Echo4},
		{"ipv6", true, guestV6, hostLoV6, l2test.Echo6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := flowtest.NewPoller(t)
			tap := &flowtest.Tap{}
			h := mustNew(t, Config{Net: testNet(), Poller: p, Tap: tap, Capacity: 4})
			t.Cleanup(h.Close)

			const id = 0x1234
			for seq := uint16(1); seq <= 3; seq++ {
				req := tc.build(tc.guest, tc.dst, id, seq, payload)
				h.HandleTap(parse(t, req), int64(seq))
				pump(t, h, p, tap, int(seq))

				check := l2test.IPv4
				icmp := l2test.ICMPv4(l2test.ICMPType(l2.ICMPv4EchoReply), l2test.ICMPCode(0),
					l2test.EchoIdent(id), l2test.EchoSeq(seq), l2test.Payload(payload))
				if tc.v6 {
					check = l2test.IPv6
					icmp = l2test.ICMPv6(l2test.ICMPType(l2.ICMPv6EchoReply), l2test.ICMPCode(0),
						l2test.EchoIdent(id), l2test.EchoSeq(seq), l2test.Payload(payload))
				}
				check(t, tap.Frames[seq-1],
					l2test.SrcMAC(l2test.OurMAC), l2test.DstMAC(l2test.GuestMAC),
					l2test.SrcAddr(tc.dst), l2test.DstAddr(tc.guest), icmp)
			}
			if h.Len() != 1 || h.counts.NewFlows != 1 || h.counts.Requests != 3 || h.counts.Replies != 3 {
				t.Errorf("Len %d, stats %+v", h.Len(), h.counts)
			}
			if len(p.Live) != 1 {
				t.Errorf("%d fds registered, want 1", len(p.Live))
			}
		})
	}
}

// TestTwoIdentifiers checks that two guest identifiers to the same address
// get separate sockets and each gets its own replies back.
func TestTwoIdentifiers(t *testing.T) {
	enablePingSockets(t)
	p := flowtest.NewPoller(t)
	tap := &flowtest.Tap{}
	h := mustNew(t, Config{Net: testNet(), Poller: p, Tap: tap, Capacity: 4})
	t.Cleanup(h.Close)
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 7, 1, []byte("a"))), 0)
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 8, 1, []byte("b"))), 0)
	if h.Len() != 2 {
		t.Fatalf("Len = %d, want 2", h.Len())
	}
	pump(t, h, p, tap, 2)
	got := map[uint16]string{}
	for _, fr := range tap.Frames {
		f := l2test.IPv4(t, fr, l2test.ICMPv4(l2test.ICMPType(l2.ICMPv4EchoReply)))
		got[f.ICMPv4().Ident()] = string(f.ICMPv4().Payload())
	}
	if got[7] != "a" || got[8] != "b" {
		t.Errorf("replies by identifier: %v", got)
	}
}

func TestDropped(t *testing.T) {
	n := testNet()
	tests := []struct {
		name  string
		net   func(*guest.Net)
		frame []byte
	}{
		{name: "echo reply", frame: l2test.Echo4(guestV4, hostLoV4, 1, 1, nil, l2test.WithICMPType(l2.ICMPv4EchoReply))},
		{name: "v6 echo reply", frame: l2test.Echo6(guestV6, hostLoV6, 1, 1, nil, l2test.WithICMPType(l2.ICMPv6EchoReply))},
		{name: "unreachable", frame: l2test.Echo4(guestV4, hostLoV4, 1, 1, nil, l2test.WithICMPType(l2.ICMPv4DstUnreachable))},
		{name: "broadcast", frame: l2test.Echo4(guestV4, netip.MustParseAddr("255.255.255.255"), 1, 1, nil)},
		{name: "multicast", frame: l2test.Echo4(guestV4, netip.MustParseAddr("224.0.0.1"), 1, 1, nil)},
		{name: "loopback", frame: l2test.Echo4(guestV4, netip.MustParseAddr("127.0.0.1"), 1, 1, nil)},
		{name: "v6 link-local", frame: l2test.Echo6(guestV6, netip.MustParseAddr("fe80::1"), 1, 1, nil)},
		{name: "v6 all-nodes", frame: l2test.Echo6(guestV6, netip.MustParseAddr("ff02::1"), 1, 1, nil)},
		{name: "unspecified source", frame: l2test.Echo4(netip.IPv4Unspecified(), hostLoV4, 1, 1, nil)},
		{name: "multicast source", frame: l2test.Echo6(netip.MustParseAddr("ff02::1"), hostLoV6, 1, 1, nil)},
		{name: "udp", frame: l2test.UDP4(netip.AddrPortFrom(guestV4, 1), netip.AddrPortFrom(hostLoV4, 2), nil)},
		{name: "icmp off", net: func(n *guest.Net) { n.NoICMP = true }, frame: l2test.Echo4(guestV4, hostLoV4, 1, 1, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			*n = *testNet()
			if tc.net != nil {
				tc.net(n)
			}
			p := &fakePoller{}
			h := mustNew(t, Config{Net: n, Poller: p, Tap: &flowtest.Tap{}, Capacity: 4})
			h.HandleTap(parse(t, tc.frame), 0)
			if h.Len() != 0 || p.adds != 0 || h.counts.DropRequest != 1 {
				t.Errorf("Len %d, adds %d, stats %+v", h.Len(), p.adds, h.counts)
			}
		})
	}
}

// fakePoller accepts everything and counts.
type fakePoller struct{ adds, mods, dels int }

func (p *fakePoller) Add(int, uint32, flow.Ref) error { p.adds++; return nil }
func (p *fakePoller) Mod(int, uint32, flow.Ref) error { p.mods++; return nil }
func (p *fakePoller) Del(int) error                   { p.dels++; return nil }

func TestHostDestination(t *testing.T) {
	n := testNet()
	n.V4.MapGuest = netip.MustParseAddr("10.0.2.3")
	n.V4.HostAddr = netip.MustParseAddr("192.0.2.7")
	tests := []struct{ dst, want string }{
		{"10.0.2.2", "127.0.0.1"},
		{"10.0.2.3", n.V4.Addr.String()}, // the guest's address (-a), not HostAddr
		{"198.51.100.1", "198.51.100.1"},
		{"fd00::2", "::1"},
		{"fd00::3", "fd00::3"}, // no V6 MapGuest
		{"2001:db8::1", "2001:db8::1"},
	}
	for _, tc := range tests {
		t.Run(tc.dst, func(t *testing.T) {
			h := mustNew(t, Config{Net: n, Poller: &fakePoller{}, Tap: &flowtest.Tap{}, Capacity: 1})
			if got := h.hostDestination(netip.MustParseAddr(tc.dst)); got != netip.MustParseAddr(tc.want) {
				t.Errorf("hostDestination(%s) = %v, want %s", tc.dst, got, tc.want)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	enablePingSockets(t)
	p := flowtest.NewPoller(t)
	tap := &flowtest.Tap{}
	h := mustNew(t, Config{Net: testNet(), Poller: p, Tap: tap, Capacity: 8})
	t.Cleanup(h.Close)
	const s = int64(time.Second)
	// Flows created at 0, 10 s, 20 s (v6), 30 s; the first one is
	// refreshed at 50 s.
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 1, 1, nil)), 0)
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 2, 1, nil)), 10*s)
	h.HandleTap(parse(t, l2test.Echo6(guestV6, hostLoV6, 3, 1, nil)), 20*s)
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 4, 1, nil)), 30*s)
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 1, 2, nil)), 50*s)
	if h.Len() != 4 {
		t.Fatalf("Len = %d, want 4", h.Len())
	}
	steps := []struct {
		now     int64
		wantLen int
	}{
		{60 * s, 4},
		{70*s + 1, 3}, // id 2 (10 s) expired
		{80*s + 1, 2}, // id 3 (20 s)
		{90*s + 1, 1}, // id 4 (30 s)
		{100 * s, 1},  // id 1 refreshed at 50 s: not yet
		{110*s + 1, 0},
	}
	for _, st := range steps {
		h.Tick(st.now)
		if h.Len() != st.wantLen || len(p.Live) != st.wantLen {
			t.Fatalf("at %v: Len %d, registered %d, want %d", time.Duration(st.now), h.Len(), len(p.Live), st.wantLen)
		}
		// Every remaining flow is findable and registered under its index.
		for i := 0; i < h.tbl.Len(); i++ {
			f := h.tbl.At(i)
			if idx, _ := h.tbl.lookup(f.v6, f.guestID, &f.remote); idx != i {
				t.Fatalf("flow %d found at %d", i, idx)
			}
			if ref := p.Live[int(f.fd)]; ref.Index != uint32(i) || ref.Kind != flow.KindPing {
				t.Fatalf("flow %d registered as %+v", i, ref)
			}
		}
	}
	if h.counts.Expired != 4 {
		t.Errorf("Expired = %d", h.counts.Expired)
	}
	// A ping after expiry opens a new flow, and replies flow again.
	h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 4, 9, []byte("again"))), 120*s)
	pump(t, h, p, tap, 1)
	l2test.IPv4(t, tap.Frames[0], l2test.ICMPv4(l2test.EchoIdent(4), l2test.EchoSeq(9), l2test.Payload([]byte("again"))))
}

func TestStaleRef(t *testing.T) {
	h := mustNew(t, Config{Net: testNet(), Poller: &fakePoller{}, Tap: &flowtest.Tap{}, Capacity: 4})
	// No flow: must not touch anything.
	h.HandleSock(flow.Ref{Kind: flow.KindPing, Index: 3, Fd: 99}, unix.EPOLLIN, 0)
	h.HandleSock(flow.Ref{Kind: flow.KindPing, Index: flow.MaxIndex, Fd: 99}, unix.EPOLLIN, 0)
	if h.counts != (Counts{}) {
		t.Errorf("stats changed: %+v", h.counts)
	}
}

func TestTableFull(t *testing.T) {
	enablePingSockets(t)
	p := flowtest.NewPoller(t)
	h := mustNew(t, Config{Net: testNet(), Poller: p, Tap: &flowtest.Tap{}, Capacity: 2})
	t.Cleanup(h.Close)
	for id := uint16(1); id <= 3; id++ {
		h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, id, 1, nil)), 0)
	}
	if h.Len() != 2 || h.counts.TableFull != 1 {
		t.Errorf("Len %d, stats %+v", h.Len(), h.counts)
	}
}

func TestAllocs(t *testing.T) {
	enablePingSockets(t)
	p := flowtest.NewPoller(t)
	tap := &flowtest.Tap{Discard: true}
	h := mustNew(t, Config{Net: testNet(), Poller: p, Tap: tap, Capacity: 4})
	t.Cleanup(h.Close)
	tests := []struct {
		name string
		req  []byte
	}{
		{"ipv4", l2test.Echo4(guestV4, hostLoV4, 5, 1, make([]byte, 56))},
		{"ipv6", l2test.Echo6(guestV6, hostLoV6, 5, 1, make([]byte, 56))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, tc.req)
			h.HandleTap(f, 0) // open the flow
			idx, _ := h.tbl.lookup(f.EtherType == l2.EtherTypeIPv6, 5, ptr(flow.AddrBytes(f.Dst)))
			if idx < 0 {
				t.Fatal("no flow")
			}
			ref := flow.Ref{Kind: flow.KindPing, Index: uint32(idx), Fd: h.tbl.At(idx).fd}
			// Drain the first reply.
			waitReadable(t, int(ref.Fd))
			h.HandleSock(ref, unix.EPOLLIN, 0)
			h.End(0)

			before := tap.Count
			allocs := testing.AllocsPerRun(200, func() {
				h.HandleTap(f, 0)
				waitReadable(t, int(ref.Fd))
				h.HandleSock(ref, unix.EPOLLIN, 0)
				h.End(0)
			})
			if allocs != 0 {
				t.Errorf("request+reply: %v allocs, want 0", allocs)
			}
			if tap.Count-before < 200 {
				t.Errorf("only %d replies in 201 runs", tap.Count-before)
			}
		})
	}
	// Opening and expiring flows allocates nothing either.
	const runs = 50
	frames := make([]l2.Frame, runs+1)
	for i := range frames {
		frames[i] = *parse(t, l2test.Echo4(guestV4, hostLoV4, uint16(100+i), 1, nil))
	}
	h.Tick(1 << 62) // expire the flows above
	i, now := 0, int64(1<<62)
	allocs := testing.AllocsPerRun(runs, func() {
		h.HandleTap(&frames[i], now)
		i++
		now += 2 * Timeout
		h.Tick(now)
	})
	if allocs != 0 {
		t.Errorf("open+expire: %v allocs, want 0", allocs)
	}
	if h.counts.NewFlows < runs || h.Len() != 0 {
		t.Errorf("flows opened %d, live %d", h.counts.NewFlows, h.Len())
	}
}

func ptr[T any](v T) *T { return &v }

// waitReadable polls fd for up to a second.
func waitReadable(t *testing.T, fd int) {
	pfd := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(pfd[:], 1000); n != 1 || err != nil {
		t.Fatalf("socket not readable: %d %v", n, err)
	}
}

// BenchmarkEcho measures one request from the guest and its reply over
// loopback: HandleTap, the kernel round trip, HandleSock, End.
func BenchmarkEcho(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		req := l2test.Echo4(guestV4, hostLoV4, 5, 1, make([]byte, 56))
		if v6 {
			name = "ipv6"
			req = l2test.Echo6(guestV6, hostLoV6, 5, 1, make([]byte, 56))
		}
		b.Run(name, func(b *testing.B) {
			enablePingSockets(b)
			tap := &flowtest.Tap{Discard: true}
			h := mustNew(b, Config{Net: testNet(), Poller: &fakePoller{}, Tap: tap, Capacity: 4})
			b.Cleanup(h.Close)
			var f l2.Frame
			if err := f.Parse(req); err != nil {
				b.Fatal(err)
			}
			h.HandleTap(&f, 0)
			if h.Len() != 1 {
				b.Fatal("no flow")
			}
			ref := flow.Ref{Kind: flow.KindPing, Index: 0, Fd: h.tbl.At(0).fd}
			pfd := [1]unix.PollFd{{Fd: ref.Fd, Events: unix.POLLIN}}
			unix.Poll(pfd[:], 1000)
			h.HandleSock(ref, unix.EPOLLIN, 0)
			h.End(0)
			b.ReportAllocs()
			for b.Loop() {
				h.HandleTap(&f, 0)
				unix.Poll(pfd[:], 1000)
				h.HandleSock(ref, unix.EPOLLIN, 0)
				h.End(0)
			}
			if tap.Count < b.N {
				b.Fatalf("%d replies for %d requests", tap.Count, b.N)
			}
		})
	}
}

// mustNew is New for tests: the configuration is valid.
func mustNew(t testing.TB, cfg Config) *Handler {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
