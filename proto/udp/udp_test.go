// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
	"gopasst/policy"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

type family struct {
	name         string
	guest, mapLo netip.Addr // guest address, --map-host-loopback address
	lo           netip.Addr // host loopback
	build        func(src, dst netip.AddrPort, payload []byte, opts ...l2test.Option) []byte
	check        func(t testing.TB, frame []byte, checkers ...l2test.NetworkChecker) *l2.Frame
}

var families = []family{
	{"ipv4", guestV4, hostLoV4, lo4, l2test.UDP4, l2test.IPv4},
	{"ipv6", guestV6, hostLoV6, lo6, l2test.UDP6, l2test.IPv6},
}

func TestEcho(t *testing.T) {
	payloads := [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte("gopasst!"), 4000)}
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			srv := newServer(t, fam.lo, true)
			e := newEnv(t, Config{})
			gport := freePort(t, fam.lo)
			for i, pl := range payloads {
				e.tapFrame(t, fam.build(ap(fam.guest, gport), ap(fam.mapLo, srv.addr.Port()), pl), int64(i))
				e.pump(t, int64(i), i+1)
				fam.check(t, e.tap.Frames[i],
					l2test.SrcMAC(l2test.OurMAC), l2test.DstMAC(l2test.GuestMAC),
					l2test.SrcAddr(fam.mapLo), l2test.DstAddr(fam.guest),
					l2test.UDP(l2test.SrcPort(srv.addr.Port()), l2test.DstPort(gport), l2test.Payload(pl)))
			}
			if peer := <-srv.peers; peer.Port() != gport {
				t.Errorf("host saw source port %d, want the guest's %d", peer.Port(), gport)
			}
			st := e.h.Counts()
			if e.h.Len() != 1 || st.FlowsOpened != 1 || st.FromGuest != 3 || st.ToGuest != 3 {
				t.Errorf("Len %d, stats %+v", e.h.Len(), st)
			}
			if len(e.p.Live) != 1 {
				t.Errorf("%d fds registered, want 1", len(e.p.Live))
			}
		})
	}
}

// TestManyFlows opens flows from many guest ports, sends two datagrams on
// each (one sendmmsg), and checks each reply reaches its own port.
func TestManyFlows(t *testing.T) {
	const flows = 300
	srv := newServer(t, lo4, true)
	e := newEnv(t, Config{Capacity: flows, Batch: 64})
	for i := range flows {
		port := uint16(30000 + i)
		pl := []byte(fmt.Sprintf("flow %d", i))
		f := l2test.UDP4(ap(guestV4, port), ap(hostLoV4, srv.addr.Port()), pl)
		e.tapFrame(t, f, 0)
		e.tapFrame(t, f, 0)
		if i%50 == 49 { // do not overflow the echo server's socket
			e.pump(t, 0, 2*(i+1))
		}
	}
	e.pump(t, 0, 2*flows)
	got := make(map[uint16]int)
	for _, fr := range e.tap.Frames {
		f := l2test.IPv4(t, fr, l2test.SrcAddr(hostLoV4), l2test.DstAddr(guestV4), l2test.UDP(l2test.SrcPort(srv.addr.Port())))
		port := f.UDP().DestinationPort()
		if want := fmt.Sprintf("flow %d", port-30000); string(f.PayloadBytes()) != want {
			t.Fatalf("port %d got %q, want %q", port, f.PayloadBytes(), want)
		}
		got[port]++
	}
	if len(got) != flows {
		t.Errorf("replies reached %d ports, want %d", len(got), flows)
	}
	if st := e.h.Counts(); e.h.Len() != flows || st.FromGuest != 2*flows || st.ToGuest != 2*flows {
		t.Errorf("Len %d, stats %+v", e.h.Len(), st)
	}
}

// TestTableFull checks that a full table drops and counts.
func TestTableFull(t *testing.T) {
	srv := newServer(t, lo4, false)
	e := newEnv(t, Config{Capacity: 2})
	for i := range 3 {
		e.tapFrame(t, l2test.UDP4(ap(guestV4, uint16(41000+i)), ap(hostLoV4, srv.addr.Port()), []byte("x")), 0)
	}
	e.h.End(0)
	if st := e.h.Counts(); e.h.Len() != 2 || st.Drops[DropTableFull] != 1 || st.FromGuest != 2 {
		t.Errorf("Len %d, stats %+v", e.h.Len(), st)
	}
}

// TestSharedBudget checks that a flow also needs a unit of the budget the
// handlers share, that a spent budget drops and counts like a full table,
// and that expiry gives the units back.
func TestSharedBudget(t *testing.T) {
	srv := newServer(t, lo4, false)
	b := flow.NewBudget(3)
	if !b.Take() { // another handler holds one unit
		t.Fatal("Take on a fresh budget failed")
	}
	e := newEnv(t, Config{Capacity: 16, Budget: b})
	for i := range 4 {
		e.tapFrame(t, l2test.UDP4(ap(guestV4, uint16(42000+i)), ap(hostLoV4, srv.addr.Port()), []byte("x")), 0)
	}
	e.h.End(0)
	if st := e.h.Counts(); e.h.Len() != 2 || st.Drops[DropTableFull] != 2 || b.Used() != 3 {
		t.Fatalf("Len %d, budget used %d, stats %+v", e.h.Len(), b.Used(), st)
	}
	e.h.Tick(int64(DefaultStreamTimeout) + int64(time.Minute))
	if e.h.Len() != 0 || b.Used() != 1 {
		t.Fatalf("after expiry: Len %d, budget used %d (want 0, 1)", e.h.Len(), b.Used())
	}
}

func TestDropInvalid(t *testing.T) {
	srv := newServer(t, lo4, false)
	p := srv.addr.Port()
	tests := []struct {
		name  string
		frame []byte
	}{
		{"source port 0", l2test.UDP4(ap(guestV4, 0), ap(hostLoV4, p), nil)},
		{"destination port 0", l2test.UDP4(ap(guestV4, 1000), ap(hostLoV4, 0), nil)},
		{"unspecified destination", l2test.UDP4(ap(guestV4, 1000), ap(netip.IPv4Unspecified(), p), nil)},
		{"loopback destination", l2test.UDP4(ap(guestV4, 1000), ap(lo4, p), nil)},
		{"broadcast destination", l2test.UDP4(ap(guestV4, 1000), ap(netip.MustParseAddr("255.255.255.255"), p), nil)},
		{"multicast source", l2test.UDP4(ap(netip.MustParseAddr("224.0.0.1"), 1000), ap(hostLoV4, p), nil)},
		{"unspecified source", l2test.UDP6(ap(netip.IPv6Unspecified(), 1000), ap(hostLoV6, p), nil)},
		{"link-local destination", l2test.UDP6(ap(guestV6, 1000), ap(netip.MustParseAddr("fe80::1"), p), nil)},
		{"not UDP", l2test.Echo4(guestV4, hostLoV4, 1, 1, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.tapFrame(t, tc.frame, 0)
			e.h.End(0)
			if st := e.h.Counts(); e.h.Len() != 0 || st.Drops[DropInvalid] != 1 || st.FromGuest != 0 {
				t.Errorf("Len %d, stats %+v", e.h.Len(), st)
			}
		})
	}
}

// TestInbound forwards a -u port: a host client's datagram reaches the
// guest with its source port preserved (address mapped), and the guest's
// reply reaches the client from the forwarded port.
func TestInbound(t *testing.T) {
	tests := []struct {
		name   string
		bind   netip.Addr // listener
		client netip.Addr
		fam    family
	}{
		{"ipv4", lo4, lo4, families[0]},
		{"ipv6", lo6, lo6, families[1]},
		{"dual-stack ipv4 client", netip.Addr{}, lo4, families[0]},
		{"dual-stack ipv6 client", netip.Addr{}, lo6, families[1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t, tc.client)
			const toPort = 5001
			e := newEnv(t, Config{Inbound: []policy.Listener{{Bind: tc.bind, Port: port, ToPort: toPort}}})
			if e.h.Listeners() != 1 {
				t.Fatalf("%d listeners", e.h.Listeners())
			}
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap(tc.client, port)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cport := c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			e.pump(t, 0, 1)
			tc.fam.check(t, e.tap.Frames[0], l2test.SrcAddr(tc.fam.mapLo), l2test.DstAddr(tc.fam.guest),
				l2test.UDP(l2test.SrcPort(cport), l2test.DstPort(toPort), l2test.Payload([]byte("ping"))))

			for i := range 3 {
				e.tapFrame(t, tc.fam.build(ap(tc.fam.guest, toPort), ap(tc.fam.mapLo, cport), []byte(fmt.Sprint("pong", i))), 1)
			}
			e.h.End(1)
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 100)
			for i := range 3 {
				n, err := c.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprint("pong", i); string(buf[:n]) != want {
					t.Errorf("client got %q, want %q", buf[:n], want)
				}
			}
			if st := e.h.Counts(); e.h.Len() != 1 || st.FlowsOpened != 1 || st.FromGuest != 3 || st.ToGuest != 1 {
				t.Errorf("Len %d, stats %+v", e.h.Len(), st)
			}
		})
	}
}

// TestInboundUnmapped drops a loopback client when the guest has no
// address for the host's loopback.
func TestInboundUnmapped(t *testing.T) {
	port := freePort(t, lo4)
	n := testNet()
	n.V4.MapHostLo = netip.Addr{}
	e := newEnv(t, Config{Net: n, Inbound: []policy.Listener{{Bind: lo4, Port: port, ToPort: 5001}}})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap(lo4, port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	e.pumpUntil(t, 0, func() bool { return e.h.Counts().Drops[DropUnmapped] == 1 })
	if len(e.tap.Frames) != 0 || e.h.Len() != 0 {
		t.Errorf("%d frames, %d flows", len(e.tap.Frames), e.h.Len())
	}
}

// TestNsInbound forwards a -U port: here NsSocket opens sockets in the
// test's own namespace, so the "namespace" client and the host server
// are both on the loopback.
func TestNsInbound(t *testing.T) {
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			srv := newServer(t, fam.lo, true)
			port := freePort(t, fam.lo)
			e := newEnv(t, Config{
				NsInbound: []policy.Listener{{Port: port, ToPort: srv.addr.Port()}},
				NsSocket:  func(d, ty, p int) (int, error) { return unix.Socket(d, ty, p) },
			})
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap(fam.lo, port)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range 3 {
				if _, err := c.Write([]byte(fmt.Sprint("splice", i))); err != nil {
					t.Fatal(err)
				}
			}
			e.pumpUntil(t, 0, func() bool { return e.h.Counts().Spliced == 6 })
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 100)
			for i := range 3 {
				n, err := c.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprint("splice", i); string(buf[:n]) != want {
					t.Errorf("client got %q, want %q", buf[:n], want)
				}
			}
			if len(e.tap.Frames) != 0 || e.h.Len() != 1 {
				t.Errorf("%d frames, %d flows", len(e.tap.Frames), e.h.Len())
			}
		})
	}
}

// TestDNSForward sends a query to the --dns-forward address; it must
// reach --dns-host port 53 and the answer must come from the forward
// address. It needs to bind port 53 on a loopback address.
func TestDNSForward(t *testing.T) {
	dnsHost := netip.MustParseAddr("127.53.83.1")
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap(dnsHost, 53)))
	if err != nil {
		t.Skipf("cannot bind %v:53 for the test resolver: %v", dnsHost, err)
	}
	defer c.Close()
	go func() { // a tiny resolver: answer with the query, QR set
		buf := make([]byte, 512)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n >= 12 {
				buf[2] |= 0x80
				c.WriteToUDPAddrPort(buf[:n], from)
			}
		}
	}()
	n := testNet()
	n.V4.DNSForward, n.V4.DNSHost = dnsFwdV4, dnsHost
	e := newEnv(t, Config{Net: n})
	query := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'f', 'o', 'o', 0, 0, 1, 0, 1}
	e.tapFrame(t, l2test.UDP4(ap(guestV4, 33333), ap(dnsFwdV4, 53), query), 0)
	e.pump(t, 0, 1)
	want := bytes.Clone(query)
	want[2] |= 0x80
	l2test.IPv4(t, e.tap.Frames[0], l2test.SrcAddr(dnsFwdV4), l2test.DstAddr(guestV4),
		l2test.UDP(l2test.SrcPort(53), l2test.DstPort(33333), l2test.Payload(want)))
}

// TestPortUnreachable sends to a closed host port: the guest must get an
// ICMP port unreachable quoting its datagram.
func TestPortUnreachable(t *testing.T) {
	payload := bytes.Repeat([]byte("q"), 1000) // longer than the IPv4 quote
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			port := freePort(t, fam.lo)
			const gport = 40404
			for round := range 2 { // the second send meets no stale error
				e.tapFrame(t, fam.build(ap(fam.guest, gport), ap(fam.mapLo, port), payload), 0)
				e.pump(t, 0, round+1)
				checkPortUnreachable(t, fam, e.tap.Frames[round], gport, port, payload)
			}
			if st := e.h.Counts(); st.ICMPErrors != 2 || st.FromGuest != 2 || st.Drops[DropSend] != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func checkPortUnreachable(t *testing.T, fam family, frame []byte, gport, port uint16, payload []byte) {
	t.Helper()
	v6 := fam.guest.Is6()
	typ, code := uint8(l2.ICMPv4DstUnreachable), uint8(3)
	check := l2test.ICMPv4
	if v6 {
		typ, code, check = l2.ICMPv6DstUnreachable, 4, l2test.ICMPv6
	}
	f := fam.check(t, frame, l2test.SrcMAC(l2test.OurMAC), l2test.DstMAC(l2test.GuestMAC),
		l2test.SrcAddr(fam.mapLo), l2test.DstAddr(fam.guest),
		check(l2test.ICMPType(typ), l2test.ICMPCode(code)))
	q := f.Raw[f.L4+8 : f.End]
	ul := l2.UDPSize + len(payload)
	var udp l2.UDP
	if v6 {
		if len(q) > 1280-48 {
			t.Errorf("quote of %d bytes exceeds RFC 4443's limit", len(q))
		}
		ip := l2.IPv6(q)
		if !ip.IsValid(len(ip)) {
			t.Fatalf("quoted IPv6 header % x", q[:40])
		}
		if ip.SourceAddress() != fam.guest || ip.DestinationAddress() != fam.mapLo || ip.NextHeader() != l2.ProtoUDP || int(ip.PayloadLength()) != ul {
			t.Errorf("quoted IPv6 header: %v → %v proto %d length %d", ip.SourceAddress(), ip.DestinationAddress(), ip.NextHeader(), ip.PayloadLength())
		}
		udp = l2.UDP(q[40:])
	} else {
		if len(q) > 576-28 {
			t.Errorf("quote of %d bytes exceeds RFC 1812's limit", len(q))
		}
		ip := l2.IPv4(q)
		if ip.SourceAddress() != fam.guest || ip.DestinationAddress() != fam.mapLo || ip.Protocol() != l2.ProtoUDP ||
			int(ip.TotalLength()) != 20+ul || !ip.IsChecksumValid() {
			t.Errorf("quoted IPv4 header % x", q[:20])
		}
		udp = l2.UDP(q[20:])
	}
	if udp.SourcePort() != gport || udp.DestinationPort() != port || int(udp.Length()) != ul {
		t.Errorf("quoted UDP header %d → %d length %d", udp.SourcePort(), udp.DestinationPort(), udp.Length())
	}
	if quoted := udp[8:]; !bytes.HasPrefix(payload, quoted) || len(quoted) == 0 {
		t.Errorf("quoted %d payload bytes that are not the payload's start", len(quoted))
	}
	if v6 {
		// The whole datagram fits in an ICMPv6 quote: its checksum is
		// the one the guest computed.
		orig := l2test.Parse(t, fam.build(ap(fam.guest, gport), ap(fam.mapLo, port), payload)).UDP()
		if udp.Checksum() != orig.Checksum() {
			t.Errorf("quoted checksum %#04x, want %#04x", udp.Checksum(), orig.Checksum())
		}
	}
}

// TestExpiry opens 5,000 idle flows and lets them expire; the table and
// the process's file descriptors return to their baseline. A flow that
// got replies lives for the stream timeout.
func TestExpiry(t *testing.T) {
	const flows = 5000
	sink := newServer(t, lo4, false)
	echo := newServer(t, lo4, true)
	e := newEnv(t, Config{Capacity: flows + 1, Timeout: 30 * time.Second, StreamTimeout: 120 * time.Second})
	base := countFDs(t)
	const t0 = int64(1000e9)
	for i := range flows {
		e.tapFrame(t, l2test.UDP4(ap(guestV4, uint16(20000+i)), ap(hostLoV4, sink.addr.Port()), []byte("x")), t0)
		if i%64 == 63 {
			e.h.End(t0)
		}
	}
	e.tapFrame(t, l2test.UDP4(ap(guestV4, 50000), ap(hostLoV4, echo.addr.Port()), []byte("x")), t0)
	e.pump(t, t0, 1) // the stream flow's reply
	if e.h.Len() != flows+1 || countFDs(t) != base+flows+1 {
		t.Fatalf("Len %d, %d fds over baseline, stats %+v", e.h.Len(), countFDs(t)-base, e.h.Counts())
	}
	e.h.Tick(t0 + 29e9)
	if e.h.Len() != flows+1 {
		t.Fatalf("flows expired early: Len %d", e.h.Len())
	}
	e.h.Tick(t0 + 31e9)
	if e.h.Len() != 1 || e.h.Counts().FlowsExpired != flows {
		t.Fatalf("after the timeout: Len %d, stats %+v", e.h.Len(), e.h.Counts())
	}
	if got := countFDs(t); got != base+1 {
		t.Errorf("%d fds over baseline, want 1", got-base)
	}
	// The remaining flow still works after all the compaction.
	e.tapFrame(t, l2test.UDP4(ap(guestV4, 50000), ap(hostLoV4, echo.addr.Port()), []byte("y")), t0+60e9)
	e.pump(t, t0+60e9, 2)
	e.h.Tick(t0 + 60e9 + 119e9)
	if e.h.Len() != 1 {
		t.Fatalf("stream flow expired early")
	}
	e.h.Tick(t0 + 60e9 + 121e9)
	if e.h.Len() != 0 || countFDs(t) != base || len(e.p.Live) != 0 {
		t.Errorf("Len %d, %d fds over baseline, %d registered", e.h.Len(), countFDs(t)-base, len(e.p.Live))
	}
}

// TestInboundBindFailure: a port that cannot be bound is skipped, unless
// no port of the option can be bound.
func TestInboundBindFailure(t *testing.T) {
	taken := newServer(t, lo4, false) // bound without SO_REUSEADDR
	free := freePort(t, lo4)
	busy := policy.Listener{Bind: lo4, Port: taken.addr.Port(), ToPort: 1}
	e := newEnv(t, Config{Inbound: []policy.Listener{busy, {Bind: lo4, Port: free, ToPort: 1}}})
	if e.h.Listeners() != 1 || len(e.p.Live) != 1 {
		t.Errorf("%d listeners, %d registered; want 1", e.h.Listeners(), len(e.p.Live))
	}
	p := flowtest.NewPoller(t)
	if h, err := New(Config{Net: testNet(), Poller: p, Tap: &flowtest.Tap{}, Capacity: 1, Batch: 1, Inbound: []policy.Listener{busy}}); err == nil {
		h.Close()
		t.Error("New succeeded with no bindable port")
	}
	if len(p.Live) != 0 {
		t.Errorf("%d fds left registered", len(p.Live))
	}
}

// TestCapacity: zero means DefaultCapacity (the binaries leave it zero),
// larger than a flow.Ref can index is clamped.
func TestCapacity(t *testing.T) {
	tests := []struct {
		name string
		in   int
		want int
	}{
		{name: "zero", in: 0, want: DefaultCapacity},
		{name: "negative", in: -1, want: DefaultCapacity},
		{name: "given", in: 3, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(Config{Net: testNet(), Poller: flowtest.NewPoller(t), Tap: &flowtest.Tap{}, Capacity: tt.in, Batch: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if got := h.tbl.Cap(); got != tt.want {
				t.Errorf("capacity %d, want %d", got, tt.want)
			}
		})
	}
}
