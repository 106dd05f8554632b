// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"gopasst/flow/flowtest"
	"gopasst/guest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

var (
	guestV4  = netip.MustParseAddr("10.0.2.15")
	hostLoV4 = netip.MustParseAddr("10.0.2.2") // --map-host-loopback
	dnsFwdV4 = netip.MustParseAddr("10.0.2.3") // --dns-forward
	guestV6  = netip.MustParseAddr("fd00::15")
	hostLoV6 = netip.MustParseAddr("fd00::2")
	lo4      = netip.MustParseAddr("127.0.0.1")
	lo6      = netip.MustParseAddr("::1")
)

func testNet() *guest.Net {
	return &guest.Net{
		OurMAC:   guest.MAC(l2test.OurMAC),
		GuestMAC: guest.MAC(l2test.GuestMAC),
		V4:       guest.Family{Addr: guestV4, PrefixLen: 24, MapHostLo: hostLoV4},
		V6:       guest.Family{Addr: guestV6, PrefixLen: 64, MapHostLo: hostLoV6},
	}
}

// testEnv is a handler on a real epoll poller with a recording tap.
type testEnv struct {
	h   *Handler
	p   *flowtest.Poller
	tap *flowtest.Tap
}

func newEnv(t testing.TB, cfg Config) *testEnv {
	t.Helper()
	e := &testEnv{p: flowtest.NewPoller(t), tap: &flowtest.Tap{}}
	if cfg.Net == nil {
		cfg.Net = testNet()
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = 64
	}
	if cfg.Batch == 0 {
		cfg.Batch = 16
	}
	cfg.Poller, cfg.Tap = e.p, e.tap
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	t.Cleanup(h.Close)
	return e
}

// tapFrame hands a frame from the guest to the handler.
func (e *testEnv) tapFrame(t testing.TB, frame []byte, now int64) {
	t.Helper()
	var f l2.Frame
	if err := f.Parse(frame); err != nil {
		t.Fatalf("parse guest frame: %v", err)
	}
	e.h.HandleTap(&f, now)
}

// pumpUntil feeds socket events to the handler, ending each round with
// End, until done returns true or 3 seconds pass.
func (e *testEnv) pumpUntil(t testing.TB, now int64, done func() bool) {
	t.Helper()
	e.h.End(now)
	deadline := time.Now().Add(3 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; tap has %d frames; stats %+v", len(e.tap.Frames), e.h.Counts())
		}
		for _, ev := range e.p.Wait(t, 50*time.Millisecond) {
			e.h.HandleSock(ev.Ref, ev.Events, now)
		}
		e.h.End(now)
	}
}

// pump waits until the tap holds want frames, and checks there are no
// more.
func (e *testEnv) pump(t testing.TB, now int64, want int) {
	t.Helper()
	e.pumpUntil(t, now, func() bool { return len(e.tap.Frames) >= want })
	if len(e.tap.Frames) != want {
		t.Fatalf("tap got %d frames, want %d", len(e.tap.Frames), want)
	}
}

// udpServer is a host-side socket on loopback; echo makes it answer
// every datagram with the same bytes.
type udpServer struct {
	conn  *net.UDPConn
	addr  netip.AddrPort
	peers chan netip.AddrPort
}

func newServer(t testing.TB, ip netip.Addr, echo bool) *udpServer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Skipf("cannot listen on %v: %v", ip, err)
	}
	s := &udpServer{conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), peers: make(chan netip.AddrPort, 1024)}
	t.Cleanup(func() { c.Close() })
	if echo {
		go func() {
			buf := make([]byte, 65536)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				select {
				case s.peers <- from:
				default:
				}
				c.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
	}
	return s
}

// freePort returns a UDP port on ip that was free a moment ago.
func freePort(t testing.TB, ip netip.Addr) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Skipf("cannot listen on %v: %v", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// countFDs returns the number of open file descriptors of the process.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list fds: %v", err)
	}
	return len(ents)
}

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }
