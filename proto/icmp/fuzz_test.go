// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"net/netip"
	"testing"

	"gopasst/flow/flowtest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// loopbackMapper sends everything to the loopback address, so that a
// fuzzer never reaches the network.
type loopbackMapper struct{}

func (loopbackMapper) HostDestination(dst netip.Addr, port uint16, udp bool) (netip.Addr, uint16) {
	if dst.Is4() {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), port
	}
	return netip.IPv6Loopback(), port
}

// FuzzHandleTap feeds arbitrary frames to HandleTap. Properties: no panic;
// a flow exists only for an echo request; no socket outlives Close.
func FuzzHandleTap(f *testing.F) {
	f.Add(l2test.Echo4(guestV4, hostLoV4, 1, 1, []byte("x")))
	f.Add(l2test.Echo6(guestV6, hostLoV6, 1, 1, []byte("x")))
	f.Add(l2test.Echo4(guestV4, netip.MustParseAddr("255.255.255.255"), 1, 1, nil))
	f.Add(l2test.Echo6(guestV6, netip.MustParseAddr("fe80::1"), 1, 1, nil))
	f.Add(l2test.Echo4(guestV4, hostLoV4, 1, 1, nil, l2test.WithICMPType(l2.ICMPv4EchoReply)))
	enablePingSockets(f)
	n := testNet()
	f.Fuzz(func(t *testing.T, frame []byte) {
		var fr l2.Frame
		if fr.Parse(frame) != nil {
			return
		}
		p := &fakePoller{}
		h := mustNew(t, Config{Net: n, Poller: p, Tap: &flowtest.Tap{}, Capacity: 2})
		h.mapper = loopbackMapper{}
		h.HandleTap(&fr, 0)
		if h.Len() > 0 {
			msg := fr.L4Bytes()
			if fr.IsFragment || len(msg) < 8 || (msg[0] != l2.ICMPv4Echo && msg[0] != l2.ICMPv6EchoRequest) || msg[1] != 0 {
				t.Fatalf("flow opened for % x", frame)
			}
		}
		h.Close()
		if p.adds != p.dels {
			t.Fatalf("%d sockets registered, %d unregistered", p.adds, p.dels)
		}
	})
}
