// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
	"gopasst/tap"
)

var (
	guestAddr4 = netip.MustParseAddr("10.0.2.15")
	gateway4   = netip.MustParseAddr("10.0.2.2")
	dns4       = netip.MustParseAddr("10.0.2.3")
	guestAddr6 = netip.MustParseAddr("2001:db8:1::15")
	guestLL6   = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	ourLL6     = netip.MustParseAddr("fe80::1")
)

func testNet() *guest.Net {
	return &guest.Net{
		MTU:      65520,
		OurMAC:   guest.DefaultOurMAC,
		GuestMAC: guest.BroadcastMAC,
		V4:       guest.Family{Addr: guestAddr4, PrefixLen: 24, Gateway: gateway4, DNS: []netip.Addr{dns4}},
		V6:       guest.Family{Addr: guestAddr6, PrefixLen: 64, Gateway: ourLL6},
		OurLL6:   ourLL6,
	}
}

// harness runs an Engine on one end of a socketpair through a tap.Stream;
// the test is the guest on the other end, speaking the same framing.
type harness struct {
	t       *testing.T
	e       *Engine
	n       *guest.Net
	guest   *tap.Stream
	done    chan error
	cancel  context.CancelFunc
	bufs    [][]byte
	sizes   []int
	queued  [][]byte // received, not yet returned by recv
	stopped bool
}

func newHarness(t *testing.T, n *guest.Net, opts ...func(*Config)) *harness {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	dev := tap.NewStream(fds[0])
	cfg := Config{Net: n, Device: dev, Batch: 16}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addServices(t, e)
	h := &harness{t: t, e: e, n: n, guest: tap.NewStream(fds[1]).(*tap.Stream), done: make(chan error, 1)}
	h.bufs = make([][]byte, 64)
	for i := range h.bufs {
		h.bufs[i] = make([]byte, 65536)
	}
	h.sizes = make([]int, 64)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- e.Run(ctx) }()
	t.Cleanup(func() {
		h.stop()
		e.Close()
		dev.Close()
		h.guest.Close()
	})
	return h
}

// stop ends Run and waits for it; afterwards the test may read h.n.
func (h *harness) stop() {
	h.t.Helper()
	if h.stopped {
		return
	}
	h.stopped = true
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		h.t.Error("Run did not return after cancel")
	}
}

// send writes frames to the engine, waiting for room as needed.
func (h *harness) send(frames ...[]byte) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(frames) > 0 || h.guest.Pending() {
		if time.Now().After(deadline) {
			h.t.Fatal("send: timeout")
		}
		if h.guest.Pending() {
			unix.Poll([]unix.PollFd{{Fd: int32(h.guest.Fd()), Events: unix.POLLOUT}}, 100)
			if err := h.guest.Flush(); err != nil {
				h.t.Fatal(err)
			}
			continue
		}
		n, err := h.guest.WriteFrames(frames)
		if err != nil {
			h.t.Fatal(err)
		}
		frames = frames[n:]
		if n == 0 {
			unix.Poll([]unix.PollFd{{Fd: int32(h.guest.Fd()), Events: unix.POLLOUT}}, 100)
		}
	}
}

// recv returns the next frame from the engine, or nil after timeout.
func (h *harness) recv(timeout time.Duration) []byte {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for len(h.queued) == 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		// The Stream may hold frames already read: try it before polling.
		n, err := h.guest.ReadFrames(h.bufs, h.sizes)
		if err != nil {
			h.t.Fatalf("guest read: %v", err)
		}
		if n == 0 {
			unix.Poll([]unix.PollFd{{Fd: int32(h.guest.Fd()), Events: unix.POLLIN}}, int(left/time.Millisecond)+1)
		}
		for i := range n {
			h.queued = append(h.queued, append([]byte(nil), h.bufs[i][:h.sizes[i]]...))
		}
	}
	f := h.queued[0]
	h.queued = h.queued[1:]
	return f
}

// recvMatching skips frames until match accepts one.
func (h *harness) recvMatching(timeout time.Duration, match func(*l2.Frame) bool) []byte {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b := h.recv(time.Until(deadline))
		if b == nil {
			break
		}
		var f l2.Frame
		if f.Parse(b) == nil && match(&f) {
			return b
		}
	}
	h.t.Fatal("no matching frame from the engine")
	return nil
}

// waitStats polls Stats until cond holds.
func (h *harness) waitStats(cond func(*Stats) bool) Stats {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := h.e.Stats()
		if cond(&s) {
			return s
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("stats never matched: %s", s.Line())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func isARP(f *l2.Frame) bool { return f.EtherType == l2.EtherTypeARP }

func TestARPReply(t *testing.T) {
	n := testNet()
	n.V6 = guest.Family{} // no unsolicited RA in the way
	h := newHarness(t, n)
	h.send(l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4))
	b := h.recvMatching(time.Second, isARP)
	l2test.ARP(t, b,
		l2test.SrcMAC(n.OurMAC), l2test.DstMAC(l2test.GuestMAC),
		l2test.ARPOp(l2.ARPReply),
		l2test.ARPSender(n.OurMAC, gateway4),
		l2test.ARPTarget(l2test.GuestMAC, guestAddr4))
	s := h.waitStats(func(s *Stats) bool { return s.Service[SvcARP] == 1 })
	if s.Dropped != 0 || s.FramesIn != 1 || s.FramesOut != 1 {
		t.Fatalf("stats: %s", s.Line())
	}
}

// TestDedicatedLoop runs the loop as the daemons do (Config.Dedicated):
// waiting in a raw system call, it still answers at once while the
// test's goroutine has the other P, and with one P (the daemons') the
// other goroutines still get their turn at its ticks: a cancel from one
// of them stops it promptly.
func TestDedicatedLoop(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	n := testNet()
	n.V6 = guest.Family{}
	h := newHarness(t, n, func(c *Config) { c.Dedicated = true })
	const rounds = 200
	start := time.Now()
	for range rounds {
		h.send(l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4))
		h.recvMatching(time.Second, isARP)
	}
	// A round that waited for the loop's tick would take 10 ms.
	if d := time.Since(start); d > rounds*5*time.Millisecond {
		t.Errorf("%d ARP round trips took %v: the loop answers at its ticks, not at once", rounds, d)
	}
	runtime.GOMAXPROCS(1)
	time.Sleep(50 * time.Millisecond) // the loop waits again, holding the only P
	start = time.Now()
	h.stop()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("with one P, Run returned %v after cancel", d)
	}
}

// dhcpDiscover returns a minimal BOOTP/DHCP DISCOVER from mac.
func dhcpDiscover(mac [6]byte, xid uint32, broadcast bool) []byte {
	b := make([]byte, 240, 300)
	b[0], b[1], b[2] = 1, 1, 6 // BOOTREQUEST, Ethernet, hlen
	binary.BigEndian.PutUint32(b[4:], xid)
	if broadcast {
		binary.BigEndian.PutUint16(b[10:], 0x8000)
	}
	copy(b[28:], mac[:])
	copy(b[236:], []byte{99, 130, 83, 99})
	b = append(b, 53, 1, 1) // DHCP message type: DISCOVER
	b = append(b, 55, 4, 1, 3, 6, 26)
	return append(b, 255)
}

func TestDHCPOffer(t *testing.T) {
	tests := []struct {
		name      string
		broadcast bool
		dst       netip.Addr
		dstMAC    [6]byte
	}{
		{"unicast", false, guestAddr4, l2test.GuestMAC},
		{"broadcast flag", true, netip.MustParseAddr("255.255.255.255"), l2.BroadcastMAC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testNet()
			n.V6 = guest.Family{}
			h := newHarness(t, n)
			req := l2test.UDP4(netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
				netip.AddrPortFrom(netip.MustParseAddr("255.255.255.255"), 67),
				dhcpDiscover(l2test.GuestMAC, 0x1234abcd, tc.broadcast),
				l2test.WithDstMAC(l2.BroadcastMAC))
			h.send(req)
			b := h.recvMatching(time.Second, func(f *l2.Frame) bool { return f.L4Proto == l2.ProtoUDP })
			// The UDP checksum is the one l2.BuildUDP4 wrote; l2's
			// TestBuildUDPChecksumAgainstNaive checks UDPChecksumValid
			// against a naive sum, 255.255.255.255 included (busybox
			// udhcpc drops a reply with a wrong one).
			f := l2test.Parse(t, b) // checks the IPv4 header checksum
			for _, c := range []l2test.NetworkChecker{
				l2test.SrcMAC(n.OurMAC), l2test.DstMAC(tc.dstMAC),
				l2test.SrcAddr(gateway4), l2test.DstAddr(tc.dst),
				l2test.UDP(l2test.SrcPort(67), l2test.DstPort(68)),
			} {
				c(t, f)
			}
			if !f.IPv4().IsChecksumValid() || !f.UDPChecksumValid() {
				t.Fatal("bad checksum")
			}
			p := f.PayloadBytes()
			if len(p) < 240 || p[0] != 2 || binary.BigEndian.Uint32(p[4:]) != 0x1234abcd {
				t.Fatalf("not a BOOTREPLY for our xid: % x", p[:min(len(p), 16)])
			}
			if got := netip.AddrFrom4([4]byte(p[16:20])); got != guestAddr4 {
				t.Fatalf("yiaddr = %v, want %v", got, guestAddr4)
			}
			if !hasOption(p[240:], 53, []byte{2}) { // OFFER
				t.Fatal("no DHCP message type OFFER")
			}
			if !hasOption(p[240:], 3, gateway4.AsSlice()) {
				t.Fatal("no router option with the gateway")
			}
			h.stop()
			if got := h.n.GuestMAC; got != guest.MAC(l2test.GuestMAC) {
				t.Fatalf("GuestMAC = %v, not learned", got)
			}
		})
	}
}

// hasOption reports whether the DHCP options area holds option code with
// value want.
func hasOption(opts []byte, code byte, want []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0:
			i++
			continue
		case 255:
			return false
		}
		if i+1 >= len(opts) || i+2+int(opts[i+1]) > len(opts) {
			return false
		}
		if opts[i] == code && string(opts[i+2:i+2+int(opts[i+1])]) == string(want) {
			return true
		}
		i += 2 + int(opts[i+1])
	}
	return false
}

func isRA(f *l2.Frame) bool {
	return f.L4Proto == l2.ProtoICMPv6 && !f.IsFragment && f.ICMPv6().Type() == l2.ICMPv6RouterAdvert
}

func TestRouterSolicitation(t *testing.T) {
	n := testNet()
	h := newHarness(t, n)
	// The unsolicited RA sent at start, to all nodes.
	b := h.recvMatching(time.Second, isRA)
	l2test.IPv6(t, b, l2test.SrcAddr(ourLL6), l2test.DstAddr(l2test.AllNodes),
		l2test.DstMAC(l2test.MulticastMAC(l2test.AllNodes)), l2test.TTL(255))

	h.send(l2test.RouterSolicit(guestLL6))
	b = h.recvMatching(time.Second, isRA)
	f := l2test.IPv6(t, b, l2test.SrcMAC(n.OurMAC), l2test.SrcAddr(ourLL6), l2test.DstAddr(guestLL6),
		l2test.DstMAC(l2test.GuestMAC), l2test.TTL(255), l2test.ICMPv6(l2test.ICMPCode(0)))
	ra := l2.NDPRouterAdvert(f.ICMPv6())
	if !ra.Options().IsValid() {
		t.Fatal("RA options invalid")
	}
	foundPrefix := false
	it := ra.Options().Iter()
	for {
		typ, v, ok := it.Next()
		if !ok {
			break
		}
		if typ == l2.NDPOptionPrefixInfo && len(v) >= 30 {
			p := netip.AddrFrom16([16]byte(v[14:30]))
			foundPrefix = p == netip.PrefixFrom(guestAddr6, 64).Masked().Addr()
		}
	}
	if !foundPrefix {
		t.Fatal("no prefix information option with the guest's /64")
	}
	s := h.waitStats(func(s *Stats) bool { return s.Service[SvcNDP] == 1 })
	if s.Service[SvcRA] != 1 {
		t.Fatalf("stats: %s", s.Line())
	}
	h.stop()
	if h.n.GuestLL6 != guestLL6 {
		t.Fatalf("GuestLL6 = %v, not learned", h.n.GuestLL6)
	}
}

// malformed builds one malformed frame of kind k (an index into
// malformedKinds) and says how the engine must classify it.
type malformedKind struct {
	name   string
	reason DropReason
	build  func(r *rand.Rand) []byte
}

var (
	someAddr4 = netip.MustParseAddr("192.0.2.1")
	udpSrc4   = netip.AddrPortFrom(guestAddr4, 40000)
	udpDst4   = netip.AddrPortFrom(someAddr4, 9)
)

func withByte(b []byte, off int, v byte) []byte { b[off] = v; return b }

var malformedKinds = []malformedKind{
	{"short frame", DropTruncated, func(r *rand.Rand) []byte {
		b := make([]byte, 1+r.IntN(13))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}},
	{"truncated IPv4 header", DropTruncated, func(r *rand.Rand) []byte {
		return l2test.UDP4(udpSrc4, udpDst4, nil)[:l2.EthernetSize+10]
	}},
	{"truncated ARP", DropTruncated, func(r *rand.Rand) []byte {
		return l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4)[:30]
	}},
	{"unknown EtherType", DropEtherType, func(r *rand.Rand) []byte {
		b := l2test.UDP4(udpSrc4, udpDst4, []byte("x"))
		binary.BigEndian.PutUint16(b[12:], 0x88b5)
		return b
	}},
	{"oversized unknown EtherType", DropEtherType, func(r *rand.Rand) []byte {
		b := make([]byte, tap.MaxStreamFrame)
		binary.BigEndian.PutUint16(b[12:], 0xffff)
		return b
	}},
	{"IHL 3", DropBadL3, func(r *rand.Rand) []byte {
		return withByte(l2test.UDP4(udpSrc4, udpDst4, []byte("x")), l2.EthernetSize, 0x43)
	}},
	{"IPv4 total length past frame", DropBadL3, func(r *rand.Rand) []byte {
		b := l2test.UDP4(udpSrc4, udpDst4, []byte("x"))
		binary.BigEndian.PutUint16(b[l2.EthernetSize+2:], 1500)
		return b
	}},
	{"IPv6 header in IPv4 EtherType", DropBadL3, func(r *rand.Rand) []byte {
		b := l2test.UDP6(netip.AddrPortFrom(guestAddr6, 1), netip.AddrPortFrom(guestAddr6, 2), nil)
		binary.BigEndian.PutUint16(b[12:], l2.EtherTypeIPv4)
		return b
	}},
	{"IPv6 payload length past frame", DropBadL3, func(r *rand.Rand) []byte {
		b := l2test.UDP6(netip.AddrPortFrom(guestAddr6, 1), netip.AddrPortFrom(guestAddr6, 2), nil)
		binary.BigEndian.PutUint16(b[l2.EthernetSize+4:], 9000)
		return b
	}},
	{"UDP length 4", DropBadL4, func(r *rand.Rand) []byte {
		b := l2test.UDP4(udpSrc4, udpDst4, []byte("xyz"))
		binary.BigEndian.PutUint16(b[l2.EthernetSize+l2.IPv4MinSize+4:], 4)
		return b
	}},
	{"TCP data offset 2", DropBadL4, func(r *rand.Rand) []byte {
		b := l2test.TCP4(udpSrc4, udpDst4, l2test.SYN, 1, 0, nil)
		return withByte(b, l2.EthernetSize+l2.IPv4MinSize+12, 0x20)
	}},
	{"IPv4 header checksum", DropBadChecksum, func(r *rand.Rand) []byte {
		return l2test.UDP4(udpSrc4, udpDst4, []byte("x"), l2test.WithBadIPChecksum())
	}},
	{"DHCP UDP checksum", DropBadChecksum, func(r *rand.Rand) []byte {
		return l2test.UDP4(netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
			netip.AddrPortFrom(netip.MustParseAddr("255.255.255.255"), 67),
			dhcpDiscover(l2test.GuestMAC, 1, false), l2test.WithBadL4Checksum())
	}},
	{"IPv4 fragment of odd length before the last", DropFragment, func(r *rand.Rand) []byte {
		b := l2test.UDP4(udpSrc4, udpDst4, []byte("x"))
		ip := l2.IPv4(b[l2.EthernetSize:])
		ip.SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, 0)
		ip.SetChecksum(ip.CalculateChecksum())
		return b
	}},
	{"VLAN-tagged ARP", DropBadL2, func(r *rand.Rand) []byte {
		return l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4, l2test.WithVLAN(5))
	}},
	{"three VLAN tags", DropBadL2, func(r *rand.Rand) []byte {
		return l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4, l2test.WithVLAN(5), l2test.WithVLAN(6), l2test.WithVLAN(7))
	}},
	{"SCTP", DropProto, func(r *rand.Rand) []byte {
		b := l2test.UDP4(udpSrc4, udpDst4, []byte("x"))
		ip := l2.IPv4(b[l2.EthernetSize:])
		ip.SetProtocol(132)
		ip.SetChecksum(ip.CalculateChecksum())
		return b
	}},
	{"UDP without a handler", DropNoUDP, func(r *rand.Rand) []byte {
		return l2test.UDP4(udpSrc4, udpDst4, []byte("x"))
	}},
	{"ARP request for the guest itself", DropNotForUs, func(r *rand.Rand) []byte {
		return l2test.ARPRequest(l2test.GuestMAC, guestAddr4, guestAddr4)
	}},
}

// TestMalformedFrames injects 1,000 malformed frames between valid ARP
// requests: every request is answered, and the drop counters classify
// every malformed frame as expected.
func TestMalformedFrames(t *testing.T) {
	n := testNet()
	n.V6 = guest.Family{}
	h := newHarness(t, n)
	r := rand.New(rand.NewPCG(1, 2))
	const total, every = 1000, 10
	var want [NumDropReasons]uint64
	var batch [][]byte
	requests := 0
	for i := range total {
		k := malformedKinds[i%len(malformedKinds)]
		want[k.reason]++
		batch = append(batch, k.build(r))
		if i%every == every-1 {
			requests++
			batch = append(batch, l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4))
			h.send(batch...)
			batch = batch[:0]
		}
	}
	h.send(batch...)
	for i := range requests {
		b := h.recv(2 * time.Second)
		if b == nil {
			t.Fatalf("ARP reply %d of %d missing; %s", i+1, requests, h.e.Stats().Line())
		}
		l2test.ARP(t, b, l2test.ARPOp(l2.ARPReply), l2test.ARPSender(n.OurMAC, gateway4))
	}
	s := h.waitStats(func(s *Stats) bool { return s.FramesIn == uint64(total+requests) })
	if s.Dropped != total {
		t.Errorf("Dropped = %d, want %d", s.Dropped, total)
	}
	for i := range want {
		if s.Drops[i] != want[i] {
			t.Errorf("%s = %d, want %d", DropReason(i), s.Drops[i], want[i])
		}
	}
	if s.Service[SvcARP] != uint64(requests) {
		t.Errorf("arp replies = %d, want %d", s.Service[SvcARP], requests)
	}
	if b := h.recv(50 * time.Millisecond); b != nil {
		t.Errorf("unexpected extra frame from the engine: % x", b[:min(len(b), 42)])
	}
	t.Log(s.Line())
}

// TestRandomFrames sends random bytes with a random IP EtherType: no
// handler is set, so each one is dropped, whatever the reason.
func TestRandomFrames(t *testing.T) {
	n := testNet()
	n.V6 = guest.Family{}
	h := newHarness(t, n)
	r := rand.New(rand.NewPCG(3, 4))
	const total = 500
	for range total {
		b := make([]byte, 14+r.IntN(200))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		et := []uint16{l2.EtherTypeIPv4, l2.EtherTypeIPv6}[r.IntN(2)]
		binary.BigEndian.PutUint16(b[12:], et)
		if r.IntN(2) == 0 && len(b) > 14 { // make the version match, to go deeper
			b[14] = b[14]&0x0f | map[uint16]byte{l2.EtherTypeIPv4: 0x45, l2.EtherTypeIPv6: 0x60}[et]&0xf0
		}
		h.send(b)
	}
	s := h.waitStats(func(s *Stats) bool { return s.FramesIn == total })
	if s.Dropped != total {
		t.Fatalf("Dropped = %d, want %d: %s", s.Dropped, total, s.Line())
	}
}

func TestStreamClosedEndsRun(t *testing.T) {
	n := testNet()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	dev := tap.NewStream(fds[0])
	defer dev.Close()
	e, err := New(Config{Net: n, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	unix.Write(fds[1], []byte{0, 0, 0, 0}) // zero length: the framing is lost
	select {
	case err := <-done:
		if !errors.Is(err, tap.ErrZeroLength) {
			t.Fatalf("Run = %v, want ErrZeroLength", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	unix.Close(fds[1])
}

func TestStatsLine(t *testing.T) {
	var s Stats
	s.FramesIn, s.Dropped, s.Drops[DropTruncated], s.Service[SvcDHCP] = 7, 3, 3, 1
	s.FlowsTCP, s.FlowsUDP, s.FlowsUsed, s.FlowsMax = 2, 1, 3, 131071
	want := "stats: frames_in=7 frames_out=0 bytes_in=0 bytes_out=0 dropped=3 (truncated=3 bad_l2=0 ethertype=0 bad_l3=0 bad_l4=0 bad_checksum=0 fragment=0 proto=0 not_for_us=0 off=0 no_udp=0 no_handler=0) tap_full=0 arp=0 ndp=0 ra=0 dhcp=1 dhcpv6=0 tcp=0 udp=0 icmp=0 wakeups=0 tcp_flows=2 udp_flows=1 icmp_flows=0 flows=3 flows_max=131071 tap_write_errors=0 tap_unframable=0 tap_partial_writes=0 tap_ring_errors=0 tap_too_long=0 tap_held=0 denied_tcp=0 denied_udp=0 denied_icmp=0 limited_tcp=0 limited_udp=0 limited_icmp=0 audit_dropped=0 frags_out=0 reassembled=0 frags_held=0 tap_gso_in=0 tap_gso_out=0 tap_csum_done=0 tap_bad_segments=0 reclaims=0 tcp_opens=5 tcp_retrans=1 auto_opens=0"
	s.Handlers = []HandlerStats{
		{Name: "tcp", Frames: flow.FramesOf(flow.FrameTCP), Counters: flow.CountersOf(flow.Flows, flow.Opens, flow.Retrans), Stats: flow.Stats{flow.Flows: 2, flow.Opens: 5, flow.Retrans: 1}},
		{Name: "auto", Counters: flow.CountersOf(flow.Opens)},
	}
	if got := s.Line(); got != want {
		t.Fatalf("Line() =\n%s\nwant\n%s", got, want)
	}
}

// dhcpv6Solicit returns a SOLICIT with a DUID-LL client identifier and an
// IA_NA.
func dhcpv6Solicit(mac [6]byte) []byte {
	b := []byte{1, 0xab, 0xcd, 0xef}       // SOLICIT, transaction ID
	b = append(b, 0, 1, 0, 10, 0, 3, 0, 1) // client ID: DUID-LL, Ethernet
	b = append(b, mac[:]...)
	b = append(b, 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0) // IA_NA, IAID 1
	return append(b, 0, 8, 0, 2, 0, 0)                             // elapsed time
}

func TestDHCPv6Advertise(t *testing.T) {
	n := testNet()
	n.NoRA = true // keep the unsolicited RA out of the way
	h := newHarness(t, n)
	h.send(l2test.UDP6(netip.AddrPortFrom(guestLL6, 546),
		netip.AddrPortFrom(netip.MustParseAddr("ff02::1:2"), 547),
		dhcpv6Solicit(l2test.GuestMAC), l2test.WithDstMAC([6]byte{0x33, 0x33, 0, 1, 0, 2})))
	b := h.recvMatching(time.Second, func(f *l2.Frame) bool { return f.L4Proto == l2.ProtoUDP })
	f := l2test.IPv6(t, b, // checks the UDP checksum
		l2test.SrcMAC(n.OurMAC), l2test.DstMAC(l2test.GuestMAC),
		l2test.SrcAddr(ourLL6), l2test.DstAddr(guestLL6),
		l2test.UDP(l2test.SrcPort(547), l2test.DstPort(546)))
	p := f.PayloadBytes()
	if len(p) < 4 || p[0] != 2 || string(p[1:4]) != "\xab\xcd\xef" {
		t.Fatalf("not an ADVERTISE for our transaction: % x", p[:min(len(p), 8)])
	}
	if !strings.Contains(string(p), string(guestAddr6.AsSlice())) {
		t.Fatal("ADVERTISE does not carry the guest's address")
	}
	h.waitStats(func(s *Stats) bool { return s.Service[SvcDHCPv6] == 1 })
}

// TestLearnOnlyFromAcceptedFrames: a frame that is dropped must not change
// the guest's MAC, or a stray frame could redirect the guest's replies.
func TestLearnOnlyFromAcceptedFrames(t *testing.T) {
	n := testNet()
	n.V6 = guest.Family{}
	h := newHarness(t, n)
	other := [6]byte{0x52, 0x54, 0, 0, 0, 0x99}
	h.send(l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4))
	h.recvMatching(time.Second, isARP)
	frag := l2test.UDP4(udpSrc4, udpDst4, []byte("x"), l2test.WithSrcMAC(other))
	ip := l2.IPv4(frag[l2.EthernetSize:])
	ip.SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, 0)
	ip.SetChecksum(ip.CalculateChecksum())
	// A fragment, a datagram no handler takes, and a gratuitous ARP the
	// ARP handler does not answer (flow.NotForUs: learned, then undone).
	h.send(frag, l2test.UDP4(udpSrc4, udpDst4, []byte("x"), l2test.WithSrcMAC(other)),
		l2test.ARPRequest(other, guestAddr4, guestAddr4, l2test.WithSrcMAC(other)))
	h.waitStats(func(s *Stats) bool { return s.FramesIn == 4 })
	h.stop()
	if h.n.GuestMAC != guest.MAC(l2test.GuestMAC) {
		t.Fatalf("GuestMAC = % x, want % x", h.n.GuestMAC, l2test.GuestMAC)
	}
}
