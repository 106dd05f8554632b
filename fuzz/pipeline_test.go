// SPDX-License-Identifier: GPL-2.0-or-later

package fuzz

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/engine"
	"gopasst/guest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
	"gopasst/proto/linksvc"
	"gopasst/tap"
)

var (
	guestAddr4 = netip.MustParseAddr("10.0.2.15")
	gateway4   = netip.MustParseAddr("10.0.2.2")
	guestAddr6 = netip.MustParseAddr("2001:db8::15")
	guestLL6   = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
)

// testNet is a guest network with every built-in responder on and no
// handler that opens host sockets: a fuzzed frame can never become traffic
// leaving this process.
func testNet() *guest.Net {
	return &guest.Net{
		MTU:      65520,
		OurMAC:   guest.DefaultOurMAC,
		GuestMAC: guest.BroadcastMAC,
		Hostname: "fuzz",
		Search:   []string{"example.test"},
		V4: guest.Family{Addr: guestAddr4, PrefixLen: 24, Gateway: gateway4,
			DNS: []netip.Addr{gateway4}},
		V6: guest.Family{Addr: guestAddr6, PrefixLen: 64,
			Gateway: netip.MustParseAddr("fe80::1"),
			DNS:     []netip.Addr{netip.MustParseAddr("2001:db8::53")}},
		OurLL6: netip.MustParseAddr("fe80::1"),
	}
}

// framed puts qemu's 4-byte big-endian length in front of each frame.
func framed(frames ...[]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// FuzzStreamPipeline writes arbitrary bytes into the qemu stream socket of a
// running engine (the passt front end: length-prefixed frames, then parse,
// dispatch and the ARP/NDP/DHCP/DHCPv6 responders), then closes the guest's
// end. Properties: no panic; the loop ends within 2 s with either the
// stream's end or one of the stream's sentinel errors (a zero or oversized
// length closes the connection, as passt does); every frame read was
// answered by a responder, held for reassembly (a fragment), or dropped,
// and counted exactly once.
func FuzzStreamPipeline(f *testing.F) {
	arp := l2test.ARPRequest(l2test.GuestMAC, guestAddr4, gateway4)
	rs := l2test.RouterSolicit(guestLL6)
	f.Add(framed(arp))
	f.Add(framed(arp, rs, []byte{1, 2, 3}, arp))
	f.Add(framed(rs)[:20])                   // a partial frame at the end
	f.Add([]byte{0, 0, 0, 0})                // zero length
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1}) // oversized length
	f.Add(framed(l2test.UDP4(netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
		netip.AddrPortFrom(netip.MustParseAddr("255.255.255.255"), 67),
		make([]byte, 300), l2test.WithDstMAC(l2.BroadcastMAC))))

	f.Fuzz(func(t *testing.T, stream []byte) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		guestEnd := fds[1]
		defer unix.Close(guestEnd)
		dev := tap.NewStream(fds[0])
		defer dev.Close()
		n := testNet()
		e, err := engine.New(engine.Config{Net: n, Device: dev})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		links, err := linksvc.New(n, e.Tap())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range links {
			if err := e.Add(h); err != nil {
				t.Fatal(err)
			}
		}

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()

		// Feed the stream, draining what the engine answers so neither end
		// blocks; then close our writing side.
		buf := make([]byte, 1<<16)
		for len(stream) > 0 && ctx.Err() == nil {
			n, err := unix.Write(guestEnd, stream)
			if n > 0 {
				stream = stream[n:]
			}
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				break
			}
			unix.Read(guestEnd, buf)
		}
		unix.Shutdown(guestEnd, unix.SHUT_WR)
		var runErr error
	wait:
		for {
			select {
			case runErr = <-done:
				break wait
			case <-time.After(time.Millisecond):
				unix.Read(guestEnd, buf)
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("engine did not notice the end of the stream within 2 s")
		}
		switch {
		case errors.Is(runErr, tap.ErrClosed), errors.Is(runErr, tap.ErrZeroLength), errors.Is(runErr, tap.ErrFrameTooLong):
		default:
			t.Fatalf("Run ended with %v, want a stream sentinel error", runErr)
		}
		st := e.Stats()
		var answered uint64
		for i, v := range st.Service {
			if engine.Service(i) != engine.SvcRA { // unsolicited: not an answer to a frame
				answered += v
			}
		}
		// A fragment held for reassembly is neither: it is FragsHeld.
		if st.Dropped+answered+st.FragsHeld != st.FramesIn {
			t.Fatalf("frames_in=%d but dropped=%d + answered=%d + frags_held=%d", st.FramesIn, st.Dropped, answered, st.FragsHeld)
		}
	})
}
