// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"gopasst/guest"
	"gopasst/proto/l2"
)

var (
	ourLL     = netip.MustParseAddr("fe80::1")
	guestLL   = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	guestAddr = netip.MustParseAddr("2001:db8:1:2::42")
	otherAddr = netip.MustParseAddr("2001:db8:1:2::99")
	remote    = netip.MustParseAddr("2001:db8:ffff::1")
	dns1      = netip.MustParseAddr("2001:db8::53")
	unspec    = netip.IPv6Unspecified()
	allRtrs   = netip.MustParseAddr("ff02::2")
	guestMAC  = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
)

func testNet() *guest.Net {
	return &guest.Net{
		MTU:      65520,
		OurMAC:   guest.DefaultOurMAC,
		GuestMAC: guest.MAC(guestMAC),
		Search:   []string{"example.com", "lab.example.org."},
		V6: guest.Family{
			Addr:      guestAddr,
			PrefixLen: 64,
			Gateway:   ourLL,
			DNS:       []netip.Addr{dns1, netip.MustParseAddr("192.0.2.53")},
		},
		GuestLL6: guestLL,
		OurLL6:   ourLL,
	}
}

// solNode returns the solicited-node multicast address of a.
func solNode(a netip.Addr) netip.Addr {
	v := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: v[13], 14: v[14], 15: v[15]})
}

// withChecksum sets the ICMPv6 checksum of msg for src → dst.
func withChecksum(src, dst netip.Addr, msg []byte) []byte {
	setChecksum(src, dst, msg)
	return msg
}

func rs(src, dst netip.Addr, withSLLA bool) []byte {
	b := make([]byte, l2.NDPRouterSolicitSize)
	b[0] = l2.ICMPv6RouterSolicit
	if withSLLA {
		b = append(b, make([]byte, 8)...)
		l2.PutNDPOptionLLA(b[8:], l2.NDPOptionSourceLLA, guestMAC)
	}
	return withChecksum(src, dst, b)
}

func ns(src, dst, target netip.Addr, withSLLA bool) []byte {
	b := make([]byte, l2.NDPNeighborSolicitSize)
	l2.NDPNeighborSolicit(b).Encode(target)
	if withSLLA {
		b = append(b, make([]byte, 8)...)
		l2.PutNDPOptionLLA(b[24:], l2.NDPOptionSourceLLA, guestMAC)
	}
	return withChecksum(src, dst, b)
}

// modify returns a copy of msg changed by f, with its checksum recomputed.
func modify(src, dst netip.Addr, msg []byte, f func([]byte) []byte) []byte {
	return withChecksum(src, dst, f(append([]byte(nil), msg...)))
}

func TestHandle(t *testing.T) {
	type want struct {
		reply  bool
		typ    uint8
		dst    netip.Addr
		flags  uint8      // NA flags or RA flags
		target netip.Addr // NA target
	}
	ra := func(dst netip.Addr) want {
		return want{reply: true, typ: l2.ICMPv6RouterAdvert, dst: dst, flags: l2.NDPRAFlagManaged}
	}
	na := func(dst, target netip.Addr, solicited bool) want {
		f := uint8(l2.NDPNAFlagRouter | l2.NDPNAFlagOverride)
		if solicited {
			f |= l2.NDPNAFlagSolicited
		}
		return want{reply: true, typ: l2.ICMPv6NeighborAdvert, dst: dst, flags: f, target: target}
	}
	tests := []struct {
		name     string
		net      func(*guest.Net)
		hop      uint8
		src, dst netip.Addr
		msg      []byte
		want     want
	}{
		{name: "RS from link-local", src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, true), want: ra(guestLL)},
		{name: "RS without options", src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, false), want: ra(guestLL)},
		{name: "RS from unspecified", src: unspec, dst: allRtrs, msg: rs(unspec, allRtrs, false), want: ra(AllNodes)},
		{name: "RS from unspecified with SLLA", src: unspec, dst: allRtrs, msg: rs(unspec, allRtrs, true)},
		{name: "RS with DHCPv6 off", net: func(n *guest.Net) { n.NoDHCPv6 = true }, src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, false),
			want: want{reply: true, typ: l2.ICMPv6RouterAdvert, dst: guestLL}},
		{name: "RS with RA off", net: func(n *guest.Net) { n.NoRA = true }, src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, false)},
		{name: "RS with NDP off", net: func(n *guest.Net) { n.NoNDP = true }, src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, false)},
		{name: "RS with IPv6 off", net: func(n *guest.Net) { n.V6.Addr = netip.Addr{} }, src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, false)},
		{name: "RS hop limit 64", hop: 64, src: guestLL, dst: allRtrs, msg: rs(guestLL, allRtrs, false)},
		{name: "RS bad checksum", src: guestLL, dst: allRtrs, msg: func() []byte { b := rs(guestLL, allRtrs, false); b[2] ^= 1; return b }()},
		{name: "RS checksum for other dst", src: guestLL, dst: allRtrs, msg: rs(guestLL, AllNodes, false)},
		{name: "RS code 1", src: guestLL, dst: allRtrs, msg: modify(guestLL, allRtrs, rs(guestLL, allRtrs, false), func(b []byte) []byte { b[1] = 1; return b })},
		{name: "RS short", src: guestLL, dst: allRtrs, msg: modify(guestLL, allRtrs, rs(guestLL, allRtrs, false), func(b []byte) []byte { return b[:6] })},
		{name: "RS zero-length option", src: guestLL, dst: allRtrs, msg: modify(guestLL, allRtrs, rs(guestLL, allRtrs, true), func(b []byte) []byte { b[9] = 0; return b })},
		{name: "RS option overruns", src: guestLL, dst: allRtrs, msg: modify(guestLL, allRtrs, rs(guestLL, allRtrs, true), func(b []byte) []byte { b[9] = 2; return b })},
		{name: "RS odd trailing byte", src: guestLL, dst: allRtrs, msg: modify(guestLL, allRtrs, rs(guestLL, allRtrs, false), func(b []byte) []byte { return append(b, 1) })},

		{name: "NS for gateway", src: guestLL, dst: solNode(ourLL), msg: ns(guestLL, solNode(ourLL), ourLL, true), want: na(guestLL, ourLL, true)},
		{name: "NS for remote host", src: guestAddr, dst: solNode(remote), msg: ns(guestAddr, solNode(remote), remote, true), want: na(guestAddr, remote, true)},
		{name: "NS for neighbour on prefix", src: guestAddr, dst: solNode(otherAddr), msg: ns(guestAddr, solNode(otherAddr), otherAddr, false), want: na(guestAddr, otherAddr, true)},
		{name: "NS unicast probe", src: guestLL, dst: ourLL, msg: ns(guestLL, ourLL, ourLL, false), want: na(guestLL, ourLL, true)},
		{name: "NS for guest address", src: guestLL, dst: solNode(guestAddr), msg: ns(guestLL, solNode(guestAddr), guestAddr, true)},
		{name: "NS for guest link-local", src: guestAddr, dst: solNode(guestLL), msg: ns(guestAddr, solNode(guestLL), guestLL, true)},
		{name: "NS for own source", src: otherAddr, dst: solNode(otherAddr), msg: ns(otherAddr, solNode(otherAddr), otherAddr, true)},
		{name: "DAD for guest address", src: unspec, dst: solNode(guestAddr), msg: ns(unspec, solNode(guestAddr), guestAddr, false)},
		{name: "DAD for SLAAC address", src: unspec, dst: solNode(otherAddr), msg: ns(unspec, solNode(otherAddr), otherAddr, false)},
		{name: "DAD for our link-local", src: unspec, dst: solNode(ourLL), msg: ns(unspec, solNode(ourLL), ourLL, false), want: na(AllNodes, ourLL, false)},
		{name: "DAD to unicast", src: unspec, dst: ourLL, msg: ns(unspec, ourLL, ourLL, false)},
		{name: "DAD with SLLA", src: unspec, dst: solNode(ourLL), msg: ns(unspec, solNode(ourLL), ourLL, true)},
		{name: "NS multicast target", src: guestLL, dst: AllNodes, msg: ns(guestLL, AllNodes, AllNodes, false)},
		{name: "NS unspecified target", src: guestLL, dst: AllNodes, msg: ns(guestLL, AllNodes, unspec, false)},
		{name: "NS short", src: guestLL, dst: ourLL, msg: modify(guestLL, ourLL, ns(guestLL, ourLL, ourLL, false), func(b []byte) []byte { return b[:20] })},
		{name: "NS bad option", src: guestLL, dst: ourLL, msg: modify(guestLL, ourLL, ns(guestLL, ourLL, ourLL, true), func(b []byte) []byte { b[25] = 0; return b })},
		{name: "NS hop limit 254", hop: 254, src: guestLL, dst: ourLL, msg: ns(guestLL, ourLL, ourLL, false)},
		{name: "NS with NDP off", net: func(n *guest.Net) { n.NoNDP = true }, src: guestLL, dst: ourLL, msg: ns(guestLL, ourLL, ourLL, false)},
		{name: "NS with RA off", net: func(n *guest.Net) { n.NoRA = true }, src: guestLL, dst: ourLL, msg: ns(guestLL, ourLL, ourLL, false), want: na(guestLL, ourLL, true)},

		{name: "RA from guest", src: guestLL, dst: AllNodes, msg: modify(guestLL, AllNodes, rs(guestLL, AllNodes, false), func(b []byte) []byte {
			b = append(b, make([]byte, 8)...)
			b[0] = l2.ICMPv6RouterAdvert
			return b
		})},
		{name: "NA from guest", src: guestLL, dst: AllNodes, msg: modify(guestLL, AllNodes, ns(guestLL, AllNodes, guestLL, false), func(b []byte) []byte { b[0] = l2.ICMPv6NeighborAdvert; return b })},
		{name: "echo request", src: guestLL, dst: ourLL, msg: withChecksum(guestLL, ourLL, []byte{l2.ICMPv6EchoRequest, 0, 0, 0, 0, 1, 0, 1})},
		{name: "empty", src: guestLL, dst: ourLL, msg: nil},
		{name: "IPv4 source", src: netip.MustParseAddr("192.0.2.1"), dst: ourLL, msg: ns(guestLL, ourLL, ourLL, false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testNet()
			if tc.net != nil {
				tc.net(n)
			}
			hop := tc.hop
			if hop == 0 {
				hop = HopLimit
			}
			out := make([]byte, MaxMessageSize)
			m, dst, ok := Handle(n, hop, tc.src, tc.dst, tc.msg, out)
			if ok != tc.want.reply {
				t.Fatalf("Handle ok = %v, want %v", ok, tc.want.reply)
			}
			if !ok {
				if m != 0 || dst.IsValid() {
					t.Errorf("no reply but m=%d dst=%v", m, dst)
				}
				return
			}
			msg := out[:m]
			if dst != tc.want.dst {
				t.Errorf("reply dst = %v, want %v", dst, tc.want.dst)
			}
			if !checksumOK(n.OurLL6, dst, msg) {
				t.Errorf("reply checksum wrong")
			}
			if msg[0] != tc.want.typ || msg[1] != 0 {
				t.Fatalf("reply type/code = %d/%d, want %d/0", msg[0], msg[1], tc.want.typ)
			}
			switch tc.want.typ {
			case l2.ICMPv6RouterAdvert:
				checkRA(t, n, msg, tc.want.flags)
			case l2.ICMPv6NeighborAdvert:
				a := l2.NDPNeighborAdvert(msg)
				if m != naSize || a.Flags() != tc.want.flags || a.TargetAddress() != tc.want.target {
					t.Errorf("NA len %d flags %#x target %v, want %d %#x %v", m, a.Flags(), a.TargetAddress(), naSize, tc.want.flags, tc.want.target)
				}
				if mac, ok := a.Options().LinkLayerAddress(l2.NDPOptionTargetLLA); !ok || mac != [6]byte(n.OurMAC) {
					t.Errorf("NA target link-layer address %x %v", mac, ok)
				}
			}
		})
	}
}

// checkRA checks an advertisement against n through the option iterator.
func checkRA(t *testing.T, n *guest.Net, msg []byte, flags uint8) {
	t.Helper()
	ra := l2.NDPRouterAdvert(msg)
	if !ra.IsValid() || ra.CurHopLimit() != 255 || ra.Flags() != flags || ra.RouterLifetime() != RouterLifetime {
		t.Fatalf("RA fixed part: hop %d flags %#x lifetime %d", ra.CurHopLimit(), ra.Flags(), ra.RouterLifetime())
	}
	seen := map[uint8]int{}
	it := ra.Options().Iter()
	for {
		typ, v, ok := it.Next()
		if !ok {
			break
		}
		seen[typ]++
		switch typ {
		case l2.NDPOptionPrefixInfo:
			if v[0] != 64 || v[1] != 0xc0 || !bytes.Equal(v[14:22], guestAddr.AsSlice()[:8]) || !bytes.Equal(v[22:30], make([]byte, 8)) {
				t.Errorf("prefix option % x", v)
			}
		case l2.NDPOptionMTU:
			if got := binary.BigEndian.Uint32(v[2:]); got != uint32(n.MTU) {
				t.Errorf("MTU %d", got)
			}
		case l2.NDPOptionSourceLLA:
			if [6]byte(v) != [6]byte(n.OurMAC) {
				t.Errorf("SLLA % x", v)
			}
		case l2.NDPOptionRDNSS:
			if len(v) != 6+16 || !bytes.Equal(v[6:], dns1.AsSlice()) {
				t.Errorf("RDNSS % x", v)
			}
		}
	}
	if it.Invalid() {
		t.Fatalf("RA options malformed")
	}
	for _, typ := range []uint8{l2.NDPOptionPrefixInfo, l2.NDPOptionMTU, l2.NDPOptionSourceLLA, l2.NDPOptionRDNSS, l2.NDPOptionDNSSL} {
		if seen[typ] != 1 {
			t.Errorf("RA has %d options of type %d, want 1", seen[typ], typ)
		}
	}
}

// TestRouterAdvertisementGolden pins the wire format of an advertisement.
func TestRouterAdvertisementGolden(t *testing.T) {
	n := testNet()
	out := make([]byte, MaxMessageSize)
	m := RouterAdvertisement(n, out)
	want := []byte{
		134, 0, // type: router advertisement, code 0
		0x00, 0x00, // checksum, filled in below
		255,        // cur hop limit
		0x80,       // flags: M
		0xff, 0xff, // router lifetime: 65535 s
		0, 0, 0, 0, // reachable time: unspecified
		0, 0, 0, 0, // retrans timer: unspecified
		// Prefix information
		3, 4, // type, length 32 bytes
		64,                     // prefix length
		0xc0,                   // flags: L, A
		0xff, 0xff, 0xff, 0xff, // valid lifetime: infinity
		0xff, 0xff, 0xff, 0xff, // preferred lifetime: infinity
		0, 0, 0, 0, // reserved
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, // 2001:db8:1:2::/64
		// Source link-layer address
		1, 1, // type, length 8 bytes
		0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55,
		// MTU
		5, 1, // type, length 8 bytes
		0, 0, // reserved
		0x00, 0x00, 0xff, 0xf0, // 65520
		// RDNSS (the IPv4 resolver is skipped)
		25, 3, // type, length 24 bytes
		0, 0, // reserved
		0xff, 0xff, 0xff, 0xff, // lifetime: infinity
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x53, // 2001:db8::53
		// DNSSL
		31, 5, // type, length 40 bytes
		0, 0, // reserved
		0xff, 0xff, 0xff, 0xff, // lifetime: infinity
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, // example.com
		3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, // lab.example.org
		0, 0, // padding
	}
	setChecksum(ourLL, AllNodes, want)
	if !bytes.Equal(out[:m], want) {
		t.Errorf("RA\n got % x\nwant % x", out[:m], want)
	}
}

func TestRouterAdvertisementOptions(t *testing.T) {
	tests := []struct {
		name    string
		net     func(*guest.Net)
		outLen  int
		wantLen int
	}{
		{name: "full", wantLen: 16 + 32 + 8 + 8 + 24 + 40},
		{name: "no MTU", net: func(n *guest.Net) { n.MTU = 0 }, wantLen: 16 + 32 + 8 + 24 + 40},
		{name: "MTU below 1280", net: func(n *guest.Net) { n.MTU = 576 }, wantLen: 16 + 32 + 8 + 24 + 40},
		{name: "no DNS", net: func(n *guest.Net) { n.V6.DNS = nil }, wantLen: 16 + 32 + 8 + 8 + 40},
		{name: "no search", net: func(n *guest.Net) { n.Search = nil }, wantLen: 16 + 32 + 8 + 8 + 24},
		{name: "bad search names skipped", net: func(n *guest.Net) {
			n.Search = []string{"", ".", "a..b", string(make([]byte, 64)) + ".com", "ok"}
		}, wantLen: 16 + 32 + 8 + 8 + 24 + 16},
		{name: "exactly aligned name", net: func(n *guest.Net) { n.Search = []string{"abcdef"} }, wantLen: 16 + 32 + 8 + 8 + 24 + 16},
		{name: "buffer for fixed part only", outLen: 56, wantLen: 56},
		{name: "buffer too short", outLen: 55, wantLen: 0},
		{name: "RDNSS truncated to fit", net: func(n *guest.Net) {
			n.MTU, n.Search = 0, nil
			n.V6.DNS = []netip.Addr{dns1, dns1, dns1}
		}, outLen: 56 + 8 + 32 + 7, wantLen: 56 + 8 + 32},
		{name: "many resolvers", net: func(n *guest.Net) {
			n.V6.DNS = make([]netip.Addr, 300)
			for i := range n.V6.DNS {
				n.V6.DNS[i] = dns1
			}
		}, wantLen: 16 + 32 + 8 + 8 + 8 + 16*maxRDNSS + 40},
		{name: "RA off", net: func(n *guest.Net) { n.NoRA = true }},
		{name: "no link-local", net: func(n *guest.Net) { n.OurLL6 = netip.Addr{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testNet()
			if tc.net != nil {
				tc.net(n)
			}
			l := tc.outLen
			if l == 0 {
				l = MaxMessageSize
			}
			out := make([]byte, l)
			m := RouterAdvertisement(n, out)
			if m != tc.wantLen {
				t.Fatalf("length %d, want %d", m, tc.wantLen)
			}
			if m == 0 {
				return
			}
			if !checksumOK(ourLL, AllNodes, out[:m]) {
				t.Errorf("checksum wrong")
			}
			if !l2.NDPRouterAdvert(out[:m]).Options().IsValid() {
				t.Errorf("options malformed: % x", out[:m])
			}
		})
	}
}

func TestAllocs(t *testing.T) {
	n := testNet()
	out := make([]byte, MaxMessageSize)
	rsMsg := rs(guestLL, allRtrs, true)
	nsMsg := ns(guestLL, solNode(ourLL), ourLL, true)
	tests := []struct {
		name string
		f    func()
	}{
		{"RS", func() { Handle(n, HopLimit, guestLL, allRtrs, rsMsg, out) }},
		{"NS", func() { Handle(n, HopLimit, guestLL, solNode(ourLL), nsMsg, out) }},
		{"unsolicited RA", func() { RouterAdvertisement(n, out) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a := testing.AllocsPerRun(1000, tc.f); a != 0 {
				t.Errorf("%v allocs, want 0", a)
			}
		})
	}
}

func BenchmarkHandleRS(b *testing.B) {
	n := testNet()
	out := make([]byte, MaxMessageSize)
	msg := rs(guestLL, allRtrs, true)
	b.ReportAllocs()
	for b.Loop() {
		Handle(n, HopLimit, guestLL, allRtrs, msg, out)
	}
}

func FuzzHandle(f *testing.F) {
	f.Add(uint8(255), false, rs(guestLL, allRtrs, true))
	f.Add(uint8(255), true, rs(unspec, allRtrs, false))
	f.Add(uint8(255), false, ns(guestLL, solNode(ourLL), ourLL, true))
	f.Add(uint8(255), true, ns(unspec, solNode(ourLL), ourLL, false))
	f.Add(uint8(64), false, []byte{135, 0, 0, 0})
	n := testNet()
	f.Fuzz(func(t *testing.T, hop uint8, fromUnspec bool, msg []byte) {
		src, dst := guestLL, allRtrs
		if fromUnspec {
			src = unspec
		}
		if len(msg) >= 24 && msg[0] == l2.ICMPv6NeighborSolicit {
			dst = solNode(l2.NDPNeighborSolicit(msg).TargetAddress())
		}
		// Give the fuzzer valid checksums most of the time.
		if hop&1 == 1 && len(msg) >= 4 {
			setChecksum(src, dst, msg)
			hop = 255
		}
		out := make([]byte, MaxMessageSize)
		m, rdst, ok := Handle(n, hop, src, dst, msg, out)
		if !ok {
			return
		}
		if m < naSize || m > len(out) || !rdst.Is6() {
			t.Fatalf("reply len %d dst %v", m, rdst)
		}
		if !checksumOK(n.OurLL6, rdst, out[:m]) {
			t.Fatalf("reply checksum wrong")
		}
		switch out[0] {
		case l2.ICMPv6RouterAdvert:
			if !l2.NDPRouterAdvert(out[:m]).Options().IsValid() {
				t.Fatalf("malformed RA options")
			}
		case l2.ICMPv6NeighborAdvert:
			tgt := l2.NDPNeighborAdvert(out[:m]).TargetAddress()
			if tgt == n.V6.Addr || tgt == n.GuestLL6 || tgt.IsMulticast() {
				t.Fatalf("advertised %v", tgt)
			}
		default:
			t.Fatalf("reply type %d", out[0])
		}
	})
}
