// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"bytes"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

func TestFrameParseValid(t *testing.T) {
	payload := []byte("hello, world")
	tests := []struct {
		name       string
		frame      []byte
		etherType  uint16
		tags       int
		l3, l4     int
		proto      uint8
		payloadOff int
		payloadLen int
		frag       bool
		src, dst   netip.Addr
	}{
		{"tcp4", l2test.TCP4(guest4, host4, l2test.ACK, 1, 2, payload),
			l2.EtherTypeIPv4, 0, 14, 34, l2.ProtoTCP, 54, 12, false, guest4.Addr(), host4.Addr()},
		{"tcp4 mss", l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil, l2test.WithMSS(1460)),
			l2.EtherTypeIPv4, 0, 14, 34, l2.ProtoTCP, 58, 0, false, guest4.Addr(), host4.Addr()},
		{"tcp6", l2test.TCP6(guest6, host6, l2test.ACK, 1, 2, payload),
			l2.EtherTypeIPv6, 0, 14, 54, l2.ProtoTCP, 74, 12, false, guest6.Addr(), host6.Addr()},
		{"udp4", l2test.UDP4(guest4, host4, payload),
			l2.EtherTypeIPv4, 0, 14, 34, l2.ProtoUDP, 42, 12, false, guest4.Addr(), host4.Addr()},
		{"udp6", l2test.UDP6(guest6, host6, payload),
			l2.EtherTypeIPv6, 0, 14, 54, l2.ProtoUDP, 62, 12, false, guest6.Addr(), host6.Addr()},
		{"udp4 vlan", l2test.UDP4(guest4, host4, payload, l2test.WithVLAN(10)),
			l2.EtherTypeIPv4, 1, 18, 38, l2.ProtoUDP, 46, 12, false, guest4.Addr(), host4.Addr()},
		{"udp6 qinq", l2test.UDP6(guest6, host6, payload, l2test.WithVLAN(10), l2test.WithVLAN(20)),
			l2.EtherTypeIPv6, 2, 22, 62, l2.ProtoUDP, 70, 12, false, guest6.Addr(), host6.Addr()},
		{"echo4", l2test.Echo4(guest4.Addr(), host4.Addr(), 7, 8, payload),
			l2.EtherTypeIPv4, 0, 14, 34, l2.ProtoICMP, 42, 12, false, guest4.Addr(), host4.Addr()},
		{"echo6", l2test.Echo6(guest6.Addr(), host6.Addr(), 7, 8, payload),
			l2.EtherTypeIPv6, 0, 14, 54, l2.ProtoICMPv6, 62, 12, false, guest6.Addr(), host6.Addr()},
		{"rs", l2test.RouterSolicit(ll6),
			l2.EtherTypeIPv6, 0, 14, 54, l2.ProtoICMPv6, 58, 12, false, ll6, l2test.AllRouters},
		{"arp", l2test.ARPRequest(l2test.GuestMAC, guest4.Addr(), host4.Addr()),
			l2.EtherTypeARP, 0, 14, 42, 0, 42, 0, false, guest4.Addr(), host4.Addr()},
		{"ipv6 no next header", ipv6Raw(l2.ProtoNoNext, nil),
			l2.EtherTypeIPv6, 0, 14, 54, l2.ProtoNoNext, 54, 0, false, guest6.Addr(), host6.Addr()},
		{"ipv6 ext chain tcp", fixL4Checksum(ipv6Raw(l2.ProtoHopByHop, cat(ext(l2.ProtoRouting), ext(l2.ProtoDestOpts),
			ext(l2.ProtoFragment), fragHdr(l2.ProtoAH, 0, false), []byte{l2.ProtoTCP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, tcpHdr(nil)))),
			l2.EtherTypeIPv6, 0, 14, 54 + 8*4 + 12, l2.ProtoTCP, 54 + 44 + 20, 0, false, guest6.Addr(), host6.Addr()},
		{"ipv6 first fragment", ipv6Raw(l2.ProtoFragment, cat(fragHdr(l2.ProtoUDP, 0, true), make([]byte, 3))),
			l2.EtherTypeIPv6, 0, 14, 62, l2.ProtoUDP, 62, 3, true, guest6.Addr(), host6.Addr()},
		{"ipv6 later fragment", ipv6Raw(l2.ProtoFragment, cat(fragHdr(l2.ProtoTCP, 1480, false), []byte{1})),
			l2.EtherTypeIPv6, 0, 14, 62, l2.ProtoTCP, 62, 1, true, guest6.Addr(), host6.Addr()},
		{"ipv4 fragment", mutate(l2test.UDP4(guest4, host4, payload), func(b []byte) []byte {
			l2.IPv4(b[14:]).SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, 0)
			fixIPv4Checksum(b, 14)
			return b
		}), l2.EtherTypeIPv4, 0, 14, 34, l2.ProtoUDP, 34, 20, true, guest4.Addr(), host4.Addr()},
		{"ipv4 options", mutate(l2test.TCP4(guest4, host4, l2test.ACK, 1, 2, payload), func(b []byte) []byte {
			// Insert 4 bytes of NOP options, IHL 6.
			b = cat(b[:34], []byte{1, 1, 1, 0}, b[34:])
			ip := l2.IPv4(b[14:])
			b[14] = 0x46
			ip.SetTotalLength(ip.TotalLength() + 4)
			fixIPv4Checksum(b, 14)
			return b
		}), l2.EtherTypeIPv4, 0, 14, 38, l2.ProtoTCP, 58, 12, false, guest4.Addr(), host4.Addr()},
		{"unknown protocol", mutate(l2test.UDP4(guest4, host4, payload), func(b []byte) []byte {
			b[14+9] = 132 // SCTP
			fixIPv4Checksum(b, 14)
			return b
		}), l2.EtherTypeIPv4, 0, 14, 34, 132, 34, 20, false, guest4.Addr(), host4.Addr()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pad := range []int{0, 1, 18} { // trailing Ethernet padding is allowed
				fr := append(append([]byte(nil), tt.frame...), make([]byte, pad)...)
				f := l2.Frame{Flags: l2.CheckIPv4Checksum | l2.CheckTCPOptions}
				if err := f.Parse(fr); err != nil {
					t.Fatalf("pad %d: Parse: %v", pad, err)
				}
				got := [...]int{int(f.EtherType), f.VLANTags, f.L3, f.L4, int(f.L4Proto), f.Payload, f.End - f.Payload}
				want := [...]int{int(tt.etherType), tt.tags, tt.l3, tt.l4, int(tt.proto), tt.payloadOff, tt.payloadLen}
				if got != want {
					t.Errorf("pad %d: (type, tags, L3, L4, proto, Payload, len) = %v, want %v", pad, got, want)
				}
				if f.End != len(tt.frame) {
					t.Errorf("pad %d: End = %d, want %d", pad, f.End, len(tt.frame))
				}
				if f.IsFragment != tt.frag || f.Src != tt.src || f.Dst != tt.dst {
					t.Errorf("pad %d: frag %v %v→%v, want %v %v→%v", pad, f.IsFragment, f.Src, f.Dst, tt.frag, tt.src, tt.dst)
				}
				if !f.IsFragment && f.L4Proto != 0 && f.L4Proto != 132 && f.L4Proto != l2.ProtoNoNext && !f.L4ChecksumValid() {
					t.Errorf("pad %d: L4 checksum invalid", pad)
				}
				touchAll(&f)
			}
		})
	}
}

func TestFrameParseUDPTrailing(t *testing.T) {
	// A UDP length shorter than the IP payload: End is trimmed to it.
	fr := l2test.UDP4(guest4, host4, []byte("abcdef"))
	fr[l4v4+5] -= 2
	var f l2.Frame
	if err := f.Parse(fr); err != nil {
		t.Fatal(err)
	}
	if got := f.PayloadBytes(); !bytes.Equal(got, []byte("abcd")) {
		t.Errorf("payload = %q, want abcd", got)
	}
}

func TestFrameParseKeepsFlags(t *testing.T) {
	f := l2.Frame{Flags: l2.CheckIPv4Checksum}
	_ = f.Parse(nil)
	if f.Flags != l2.CheckIPv4Checksum {
		t.Errorf("Flags = %v after Parse", f.Flags)
	}
	// Without the flag a bad IPv4 checksum is accepted.
	bad := l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil, l2test.WithBadIPChecksum())
	var g l2.Frame
	if err := g.Parse(bad); err != nil {
		t.Errorf("Parse without checksum check: %v", err)
	}
}

func TestFrameParseAllocs(t *testing.T) {
	frames := [][]byte{
		l2test.TCP4(guest4, host4, l2test.ACK, 1, 2, make([]byte, 1400)),
		l2test.TCP6(guest6, host6, l2test.ACK, 1, 2, make([]byte, 1400), l2test.WithVLAN(3)),
		l2test.UDP6(guest6, host6, []byte("x")),
		l2test.ARPRequest(l2test.GuestMAC, guest4.Addr(), host4.Addr()),
		l2test.NeighborSolicit(ll6, guest6.Addr()),
	}
	f := l2.Frame{Flags: l2.CheckIPv4Checksum | l2.CheckTCPOptions}
	for i, fr := range frames {
		n := testing.AllocsPerRun(100, func() {
			if err := f.Parse(fr); err != nil {
				t.Fatal(err)
			}
			_ = f.L4ChecksumValid()
		})
		if n != 0 {
			t.Errorf("frame %d: %v allocs per Parse", i, n)
		}
	}
}

// touchAll calls every accessor of every layer Parse vouched for. Used by
// the tests and FuzzFrameParse: any out-of-bounds access panics.
func touchAll(f *l2.Frame) {
	if !(l2.EthernetSize <= f.L3 && f.L3 <= f.L4 && f.L4 <= f.Payload && f.Payload <= f.End && f.End <= len(f.Raw)) {
		panic("offsets out of order")
	}
	e := f.Ethernet()
	_, _, _ = e.Destination(), e.Source(), e.Type()
	switch f.EtherType {
	case l2.EtherTypeARP:
		a := f.ARP()
		if !a.IsValid() {
			panic("ARP not valid after Parse")
		}
		_, _, _, _, _ = a.Op(), a.SenderHW(), a.SenderIP(), a.TargetHW(), a.TargetIP()
		return
	case l2.EtherTypeIPv4:
		ip := f.IPv4()
		if !ip.IsValid(len(ip)) {
			panic("IPv4 not valid after Parse")
		}
		_, _, _, _, _, _ = ip.HeaderLength(), ip.TotalLength(), ip.ID(), ip.Flags(), ip.FragmentOffset(), ip.TOS()
		_, _, _, _, _, _ = ip.MoreFragments(), ip.DontFragment(), ip.IsFragment(), ip.TTL(), ip.Protocol(), ip.Checksum()
		_, _, _, _ = ip.SourceAddress(), ip.DestinationAddress(), ip.Options(), ip.Payload()
		_, _ = ip.CalculateChecksum(), ip.IsChecksumValid()
	case l2.EtherTypeIPv6:
		ip := f.IPv6()
		if !ip.IsValid(len(ip)) {
			panic("IPv6 not valid after Parse")
		}
		_, _, _, _, _ = ip.PayloadLength(), ip.NextHeader(), ip.HopLimit(), ip.TrafficClass(), ip.FlowLabel()
		_, _, _ = ip.SourceAddress(), ip.DestinationAddress(), ip.Payload()
		p, off, ok := ip.UpperLayer()
		if !ok || (!f.IsFragment && (p != f.L4Proto || off != f.L4-f.L3)) {
			panic("UpperLayer disagrees with Parse")
		}
	default:
		panic("unexpected EtherType")
	}
	_, _ = f.L4Bytes(), f.PayloadBytes()
	if f.IsFragment {
		return
	}
	_ = f.L4ChecksumValid()
	switch {
	case f.L4Proto == l2.ProtoTCP:
		tc := f.TCP()
		if !tc.IsValid(len(tc)) {
			panic("TCP not valid after Parse")
		}
		_, _, _, _, _ = tc.SourcePort(), tc.DestinationPort(), tc.SequenceNumber(), tc.AckNumber(), tc.DataOffset()
		_, _, _, _ = tc.Flags().String(), tc.WindowSize(), tc.Checksum(), tc.UrgentPointer()
		_, _ = l2.ParseTCPOptions(tc.Options())
		if len(tc.Payload()) != f.End-f.Payload {
			panic("TCP payload length mismatch")
		}
	case f.L4Proto == l2.ProtoUDP:
		u := f.UDP()
		if !u.IsValid(len(u)) {
			panic("UDP not valid after Parse")
		}
		_, _, _, _ = u.SourcePort(), u.DestinationPort(), u.Length(), u.Checksum()
		if len(u.Payload()) != f.End-f.Payload {
			panic("UDP payload length mismatch")
		}
	case f.L4Proto == l2.ProtoICMP && f.EtherType == l2.EtherTypeIPv4:
		c := f.ICMPv4()
		if !c.IsValid() {
			panic("ICMP not valid after Parse")
		}
		_, _, _, _, _, _ = c.Type(), c.Code(), c.Checksum(), c.Ident(), c.Sequence(), c.Payload()
	case f.L4Proto == l2.ProtoICMPv6 && f.EtherType == l2.EtherTypeIPv6:
		c := f.ICMPv6()
		if !c.IsValid() {
			panic("ICMPv6 not valid after Parse")
		}
		_, _, _, _, _ = c.Type(), c.Code(), c.Checksum(), c.MessageBody(), c.Payload()
		if c.Type() == l2.ICMPv6EchoRequest || c.Type() == l2.ICMPv6EchoReply {
			_, _ = c.Ident(), c.Sequence()
		}
		touchNDP(c)
	}
}

func touchNDP(c l2.ICMPv6) {
	var opts l2.NDPOptions
	b := []byte(c)
	switch c.Type() {
	case l2.ICMPv6RouterSolicit:
		if rs := l2.NDPRouterSolicit(b); rs.IsValid() {
			opts = rs.Options()
		}
	case l2.ICMPv6RouterAdvert:
		if ra := l2.NDPRouterAdvert(b); ra.IsValid() {
			_, _, _, _, _ = ra.CurHopLimit(), ra.Flags(), ra.RouterLifetime(), ra.ReachableTime(), ra.RetransTimer()
			opts = ra.Options()
		}
	case l2.ICMPv6NeighborSolicit:
		if ns := l2.NDPNeighborSolicit(b); ns.IsValid() {
			_ = ns.TargetAddress()
			opts = ns.Options()
		}
	case l2.ICMPv6NeighborAdvert:
		if na := l2.NDPNeighborAdvert(b); na.IsValid() {
			_, _ = na.TargetAddress(), na.Flags()
			opts = na.Options()
		}
	}
	_ = opts.IsValid()
	_, _ = opts.LinkLayerAddress(l2.NDPOptionSourceLLA)
	it := opts.Iter()
	for range len(opts) + 1 {
		if _, _, ok := it.Next(); !ok {
			break
		}
	}
}
