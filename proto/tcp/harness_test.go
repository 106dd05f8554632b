// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
	"gopasst/guest"
	"gopasst/policy"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// The test plays the guest: frames it sends are built with l2test and fed
// to HandleTap; frames the handler sends are recorded by a flowtest.Tap. The host
// side is real sockets on loopback, with a real epoll set.

var (
	guestMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	guest4   = netip.MustParseAddr("10.0.2.15")
	gw4      = netip.MustParseAddr("10.0.2.2")
	guest6   = netip.MustParseAddr("fd00::15")
	gw6      = netip.MustParseAddr("fd00::2")
)

type env struct {
	t   testing.TB
	h   *Handler
	tap *flowtest.Tap
	ep  *flowtest.Poller
	// flush is the tap when it can be flushed (newEnvTap); it records
	// into tap.
	flush *flushTap
	seg   *segTap // the tap when it takes segments (newEnvTapSeg)
	net   *guest.Net
	now   int64 // fake monotonic clock, advanced by pump
}

func testNet() *guest.Net {
	return &guest.Net{
		MTU:      65520,
		OurMAC:   guest.DefaultOurMAC,
		GuestMAC: guest.MAC(guestMAC),
		V4:       guest.Family{Addr: guest4, PrefixLen: 24, Gateway: gw4, MapHostLo: gw4},
		V6:       guest.Family{Addr: guest6, PrefixLen: 64, Gateway: gw6, MapHostLo: gw6},
	}
}

func newEnv(t testing.TB, capacity int, inbound ...policy.Listener) *env {
	t.Helper()
	return newEnvTap(t, capacity, 0, false, inbound...)
}

// newEnvTap is newEnv with a tap MTU (0: testNet's) and, if flush, a tap
// that can be flushed mid-wake-up (flow.Flusher), as the engine's.
func newEnvTap(t testing.TB, capacity, mtu int, flush bool, inbound ...policy.Listener) *env {
	t.Helper()
	return newEnvTapSeg(t, capacity, mtu, flush, false, inbound...)
}

// newEnvTapSeg is newEnvTap with, if segments, a flushable tap whose
// device takes segments larger than the MTU (flow.Segmenter, segTap), as
// the engine's on a tap with offloads.
func newEnvTapSeg(t testing.TB, capacity, mtu int, flush, segments bool, inbound ...policy.Listener) *env {
	t.Helper()
	ep := flowtest.NewPoller(t)
	ep.Live = nil // no allocation (alloc_test.go)
	e := &env{t: t, tap: &flowtest.Tap{}, ep: ep, net: testNet(), now: int64(time.Hour)}
	if mtu > 0 {
		e.net.MTU = mtu
	}
	var tap flow.Tap = e.tap
	if flush {
		e.flush = &flushTap{Tap: e.tap}
		tap = e.flush
	}
	if segments {
		e.flush = &flushTap{Tap: e.tap}
		e.seg = &segTap{flushTap: e.flush}
		tap = e.seg
	}
	h, err := New(Config{Net: e.net, Poller: e.ep, Tap: tap, Capacity: capacity, Inbound: inbound})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	h.Begin(e.now)
	t.Cleanup(h.Close)
	return e
}

// endWakeup ends a wake-up and begins the next, as the engine would
// around its flush (the frames recorded by the test Tap are copies).
func (h *Handler) endWakeup(now int64) {
	h.End(now)
	h.Begin(now)
}

// poll runs one epoll round with a timeout in milliseconds, dispatching
// events like the engine, then End and Begin.
func (e *env) poll(ms int) {
	e.now += int64(time.Millisecond)
	if _, err := e.ep.Dispatch(ms, func(ref flow.Ref, events uint32) {
		e.h.HandleSock(ref, events, e.now)
	}); err != nil {
		e.t.Fatal(err)
	}
	e.h.endWakeup(e.now)
}

// tapIn delivers a frame from the guest.
func (e *env) tapIn(frame []byte) {
	e.t.Helper()
	var f l2.Frame
	if err := f.Parse(frame); err != nil {
		e.t.Fatalf("test frame does not parse: %v", err)
	}
	e.h.HandleTap(&f, e.now)
	e.h.endWakeup(e.now)
}

// roomForBulk makes room for megabytes in flight from srv, the host's
// end of the first connection: a large send buffer there, a large
// receive buffer on our socket, which the handler peeks.
func (e *env) roomForBulk(srv *net.TCPConn) {
	e.t.Helper()
	if err := unix.SetsockoptInt(e.h.tab.conns[0].sock, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20); err != nil {
		e.t.Fatal(err)
	}
	if err := srv.SetWriteBuffer(4 << 20); err != nil {
		e.t.Fatal(err)
	}
}

// take returns and forgets the frames recorded so far.
func (e *env) take() [][]byte {
	f := e.tap.Frames
	e.tap.Frames = nil
	return f
}

// seg is a parsed TCP segment sent to the guest.
type seg struct {
	src, dst netip.AddrPort
	flags    l2.TCPFlags
	seq, ack uint32
	wnd      uint16
	opts     l2.TCPOptions
	payload  []byte
}

func (e *env) parse(b []byte) seg {
	e.t.Helper()
	f := l2test.Parse(e.t, b)
	if f.L4Proto != l2.ProtoTCP {
		e.t.Fatalf("not TCP: %d", f.L4Proto)
	}
	if !f.L4ChecksumValid() {
		e.t.Fatalf("bad TCP checksum")
	}
	if f.Ethernet().Destination() != guestMAC {
		e.t.Fatalf("dst MAC %x", f.Ethernet().Destination())
	}
	tc := f.TCP()
	o, _ := l2.ParseTCPOptions(tc.Options())
	return seg{
		src: netip.AddrPortFrom(f.Src, tc.SourcePort()), dst: netip.AddrPortFrom(f.Dst, tc.DestinationPort()),
		flags: tc.Flags(), seq: tc.SequenceNumber(), ack: tc.AckNumber(), wnd: tc.WindowSize(), opts: o,
		payload: append([]byte(nil), f.PayloadBytes()...),
	}
}

// waitSeg polls until a segment matching ok arrives, and returns it; the
// segments before it are dropped.
func (e *env) waitSeg(what string, ok func(seg) bool) seg {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for len(e.tap.Frames) > 0 {
			b := e.tap.Frames[0]
			e.tap.Frames = e.tap.Frames[1:]
			if s := e.parse(b); ok(s) {
				return s
			}
		}
		e.poll(10)
	}
	e.t.Fatalf("no %s from the handler", what)
	return seg{}
}

func hasFlags(want l2.TCPFlags) func(seg) bool {
	return func(s seg) bool { return s.flags&want == want }
}

// gconn is the guest's end of one connection.
type gconn struct {
	e        *env
	local    netip.AddrPort // guest
	remote   netip.AddrPort // as the guest sees it
	seq, ack uint32         // next to send, next expected
	ws       uint8          // our (the guest's) window scale
	peerWS   uint8
	peerWnd  uint32 // window of the SYN+ACK
	wnd      uint16
}

func (g *gconn) frame(fl l2.TCPFlags, seq uint32, payload []byte, opts ...l2test.Option) []byte {
	opts = append([]l2test.Option{l2test.WithSrcMAC(guestMAC), l2test.WithDstMAC([6]byte(guest.DefaultOurMAC)),
		l2test.WithWindow(g.wnd)}, opts...)
	if g.local.Addr().Is4() {
		return l2test.TCP4(g.local, g.remote, fl, seq, g.ack, payload, opts...)
	}
	return l2test.TCP6(g.local, g.remote, fl, seq, g.ack, payload, opts...)
}

// send sends a segment at g.seq and advances it.
func (g *gconn) send(fl l2.TCPFlags, payload []byte) {
	g.e.tapIn(g.frame(fl, g.seq, payload))
	g.seq += uint32(len(payload))
	if fl&(l2.TCPFlagSyn|l2.TCPFlagFin) != 0 {
		g.seq++
	}
}

// connect opens a connection from the guest and completes the handshake.
func (e *env) connect(local, remote netip.AddrPort) *gconn {
	e.t.Helper()
	g := &gconn{e: e, local: local, remote: remote, seq: 1000, ws: 7, wnd: 0xffff}
	e.tapIn(g.frame(l2.TCPFlagSyn, g.seq, nil, l2test.WithMSS(1460), l2test.WithWS(g.ws)))
	g.seq++
	sa := e.waitSeg("SYN+ACK", hasFlags(l2.TCPFlagSyn|l2.TCPFlagAck))
	if sa.ack != g.seq {
		e.t.Fatalf("SYN+ACK acks %d, want %d", sa.ack, g.seq)
	}
	if !sa.opts.HasMSS || !sa.opts.HasWS || sa.opts.WindowScale != wsToTap {
		e.t.Fatalf("SYN+ACK options %+v", sa.opts)
	}
	g.peerWS = sa.opts.WindowScale
	g.peerWnd = uint32(sa.wnd)
	g.ack = sa.seq + 1
	g.send(l2.TCPFlagAck, nil)
	return g
}

func listenerAny(bind string) policy.Listener {
	return policy.Listener{Bind: netip.MustParseAddr(bind), ToPort: 8080}
}

// dialQuiet connects and holds the connection for a while.
func dialQuiet(host string, port uint16) {
	c, err := (&net.Dialer{Timeout: time.Second}).Dial("tcp", net.JoinHostPort(host, itoa(port)))
	if err == nil {
		time.Sleep(time.Second)
		c.Close()
	}
}
