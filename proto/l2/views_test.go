// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

func TestTCPFlagsString(t *testing.T) {
	tests := []struct {
		f    l2.TCPFlags
		want string
	}{
		{0, "none"},
		{l2.TCPFlagSyn, "syn"},
		{l2.TCPFlagSyn | l2.TCPFlagAck, "syn|ack"},
		{l2.TCPFlagFin | l2.TCPFlagPsh | l2.TCPFlagAck, "fin|psh|ack"},
		{0xff, "fin|syn|rst|psh|ack|urg|ece|cwr"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.f.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTCPOptions(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want l2.TCPOptions
		ok   bool
	}{
		{"empty", nil, l2.TCPOptions{}, true},
		{"linux syn", []byte{
			2, 4, 0x05, 0xb4, // MSS 1460
			4, 2, // SACK permitted
			8, 10, 0, 0, 0, 1, 0, 0, 0, 0, // TS 1, 0
			1,       // NOP
			3, 3, 7, // WS 7
		}, l2.TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, HasTS: true, TSVal: 1, WindowScale: 7, HasWS: true}, true},
		{"ws clamped to 14", []byte{3, 3, 20, 0}, l2.TCPOptions{WindowScale: 14, HasWS: true}, true},
		{"sack two blocks", []byte{1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4},
			l2.TCPOptions{SACK: [4]l2.SACKBlock{{1, 2}, {3, 4}}, NumSACK: 2}, true},
		{"eol stops", []byte{0, 0, 0xff}, l2.TCPOptions{}, true},
		{"unknown option skipped", []byte{30, 4, 0, 0, 2, 4, 1, 0}, l2.TCPOptions{MSS: 256, HasMSS: true}, true},
		{"mss wrong length ignored", []byte{2, 3, 5, 1}, l2.TCPOptions{}, true},
		{"length 0", []byte{2, 0, 0, 0}, l2.TCPOptions{}, false},
		{"length 1", []byte{8, 1, 0, 0}, l2.TCPOptions{}, false},
		{"length overruns", []byte{8, 10, 0, 0}, l2.TCPOptions{}, false},
		{"length missing", []byte{1, 1, 1, 3}, l2.TCPOptions{}, false},
		{"unknown overruns", []byte{99, 5, 0, 0}, l2.TCPOptions{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := l2.ParseTCPOptions(tt.b)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok {
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestNDPOptions(t *testing.T) {
	b := make([]byte, 128)
	n := l2.PutNDPOptionLLA(b, l2.NDPOptionSourceLLA, l2test.GuestMAC)
	n += l2.PutNDPOptionMTU(b[n:], 65520)
	n += l2.PutNDPOptionPrefix(b[n:], netip.MustParsePrefix("2001:db8::1/64"), l2.NDPPrefixFlagOnLink|l2.NDPPrefixFlagAutonomous, 3600, 1800)
	n += l2.PutNDPOptionRDNSS(b[n:], 60, []netip.Addr{netip.MustParseAddr("2001:db8::53")})
	good := l2.NDPOptions(b[:n])
	tests := []struct {
		name  string
		opts  l2.NDPOptions
		types []uint8
		valid bool
	}{
		{"empty", nil, nil, true},
		{"all kinds", good, []uint8{1, 5, 3, 25}, true},
		{"zero length", l2.NDPOptions{1, 0, 0, 0, 0, 0, 0, 0}, nil, false},
		{"zero length after good", append(append(l2.NDPOptions{}, good[:8]...), 5, 0, 0, 0, 0, 0, 0, 0), []uint8{1}, false},
		{"overrun", l2.NDPOptions{1, 2, 0, 0, 0, 0, 0, 0}, nil, false},
		{"one byte", l2.NDPOptions{1}, nil, false},
		{"trailing bytes", append(append(l2.NDPOptions{}, good[:8]...), 1, 1, 0), []uint8{1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var types []uint8
			it := tt.opts.Iter()
			for {
				typ, _, ok := it.Next()
				if !ok {
					break
				}
				types = append(types, typ)
			}
			if d := cmp.Diff(tt.types, types); d != "" {
				t.Errorf("types (-want +got):\n%s", d)
			}
			if it.Invalid() == tt.valid || tt.opts.IsValid() != tt.valid {
				t.Errorf("valid = %v, want %v", !it.Invalid(), tt.valid)
			}
		})
	}
	if mac, ok := good.LinkLayerAddress(l2.NDPOptionSourceLLA); !ok || mac != l2test.GuestMAC {
		t.Errorf("LinkLayerAddress = %x, %v", mac, ok)
	}
	if _, ok := good.LinkLayerAddress(l2.NDPOptionTargetLLA); ok {
		t.Error("found a target LLA that is not there")
	}
}

func TestNDPMessages(t *testing.T) {
	target := netip.MustParseAddr("2001:db8::15")
	ns := l2test.NeighborSolicit(ll6, target)
	l2test.IPv6(t, ns, l2test.TTL(255), l2test.DstAddr(l2test.SolicitedNode(target)),
		l2test.DstMAC([6]byte{0x33, 0x33, 0xff, 0, 0, 0x15}),
		l2test.ICMPv6(l2test.ICMPType(l2.ICMPv6NeighborSolicit), l2test.NDPTarget(target),
			l2test.NDPOption(l2.NDPOptionSourceLLA, l2test.GuestMAC)))

	buf := make([]byte, 64)
	ra := l2.NDPRouterAdvert(buf)
	ra.Encode(64, l2.NDPRAFlagOther, 1800, 0, 0)
	n := l2.NDPRouterAdvertSize + l2.PutNDPOptionMTU(buf[l2.NDPRouterAdvertSize:], 1500)
	ra = ra[:n]
	if !ra.IsValid() || ra.CurHopLimit() != 64 || ra.Flags() != l2.NDPRAFlagOther || ra.RouterLifetime() != 1800 || !ra.Options().IsValid() {
		t.Errorf("RA fields wrong: % x", ra)
	}
	na := l2.NDPNeighborAdvert(make([]byte, l2.NDPNeighborAdvertSize))
	na.Encode(l2.NDPNAFlagRouter|l2.NDPNAFlagSolicited, target)
	if na.Flags() != 0xc0 || na.TargetAddress() != target || len(na.Options()) != 0 {
		t.Errorf("NA fields wrong: % x", na)
	}
	nsv := l2.NDPNeighborSolicit(make([]byte, l2.NDPNeighborSolicitSize))
	nsv.Encode(target)
	if nsv.TargetAddress() != target || l2.ICMPv6(nsv).Type() != l2.ICMPv6NeighborSolicit {
		t.Errorf("NS fields wrong: % x", nsv)
	}
}

func TestHeaderSettersRoundTrip(t *testing.T) {
	t.Run("ethernet", func(t *testing.T) {
		e := l2.Ethernet(make([]byte, l2.EthernetSize))
		e.Encode(l2test.OurMAC, l2test.GuestMAC, l2.EtherTypeIPv6)
		if e.Destination() != l2test.OurMAC || e.Source() != l2test.GuestMAC || e.Type() != l2.EtherTypeIPv6 {
			t.Errorf("% x", e)
		}
		if !l2.IsMulticastMAC(l2.BroadcastMAC) || l2.IsMulticastMAC(l2test.OurMAC) {
			t.Error("IsMulticastMAC")
		}
	})
	t.Run("ipv4", func(t *testing.T) {
		ip := l2.IPv4(make([]byte, 28))
		n := ip.Encode(&l2.IPv4Fields{TOS: 0x10, TotalLength: 28, ID: 0x1234, Flags: l2.IPv4FlagDontFragment,
			FragmentOffset: 0, TTL: 7, Protocol: l2.ProtoUDP, SrcAddr: guest4.Addr(), DstAddr: host4.Addr(), Options: []byte{1, 1, 1}})
		ip.SetChecksum(ip.CalculateChecksum())
		if n != 24 || !ip.IsValid(28) || !ip.IsChecksumValid() || ip.TOS() != 0x10 || ip.ID() != 0x1234 ||
			!ip.DontFragment() || ip.MoreFragments() || ip.IsFragment() || ip.TTL() != 7 ||
			ip.SourceAddress() != guest4.Addr() || ip.DestinationAddress() != host4.Addr() ||
			len(ip.Options()) != 4 || len(ip.Payload()) != 4 {
			t.Errorf("% x", ip)
		}
		ip.SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, 1480)
		if !ip.IsFragment() || ip.FragmentOffset() != 1480 || !ip.MoreFragments() {
			t.Errorf("fragment fields: % x", ip)
		}
		if ip.IsValid(27) || ip.IsValid(29) || l2.IPv4(ip[:19]).IsValid(19) {
			t.Error("IsValid accepted a bad length")
		}
	})
	t.Run("ipv6", func(t *testing.T) {
		ip := l2.IPv6(make([]byte, 48))
		ip.Encode(&l2.IPv6Fields{TrafficClass: 0xb8, FlowLabel: 0xabcde, PayloadLength: 8, NextHeader: l2.ProtoUDP,
			HopLimit: 9, SrcAddr: guest6.Addr(), DstAddr: host6.Addr()})
		if !ip.IsValid(48) || ip.TrafficClass() != 0xb8 || ip.FlowLabel() != 0xabcde || ip.HopLimit() != 9 ||
			ip.NextHeader() != l2.ProtoUDP || ip.SourceAddress() != guest6.Addr() || len(ip.Payload()) != 8 {
			t.Errorf("% x", ip)
		}
		ip.SetTrafficClass(0x01)
		ip.SetFlowLabel(1)
		if ip.TrafficClass() != 1 || ip.FlowLabel() != 1 || ip.Version() != 6 {
			t.Errorf("setters: % x", ip)
		}
		if p, off, ok := ip.UpperLayer(); !ok || p != l2.ProtoUDP || off != 40 {
			t.Errorf("UpperLayer = %d %d %v", p, off, ok)
		}
		if ip.IsValid(47) {
			t.Error("IsValid accepted a short packet")
		}
	})
	t.Run("tcp", func(t *testing.T) {
		tc := l2.TCP(make([]byte, 30))
		hl := tc.Encode(&l2.TCPFields{SrcPort: 1, DstPort: 2, SeqNum: 3, AckNum: 4, Flags: l2.TCPFlagAck,
			WindowSize: 5, Checksum: 6, UrgentPointer: 7, Options: []byte{2, 4, 1, 0}})
		if hl != 24 || !tc.IsValid(30) || tc.SourcePort() != 1 || tc.DestinationPort() != 2 || tc.SequenceNumber() != 3 ||
			tc.AckNumber() != 4 || tc.Flags() != l2.TCPFlagAck || tc.WindowSize() != 5 || tc.Checksum() != 6 ||
			tc.UrgentPointer() != 7 || len(tc.Options()) != 4 || len(tc.Payload()) != 6 {
			t.Errorf("% x", tc)
		}
		tc.SetDataOffset(64) // 16 words does not fit in 4 bits: data offset wraps to 0
		if tc.IsValid(30) {
			t.Error("IsValid accepted data offset 0")
		}
		if len(l2.TCP(nil).Options()) != 0 || len(l2.TCP(nil).Payload()) != 0 {
			t.Error("clamping accessors on nil")
		}
	})
	t.Run("udp", func(t *testing.T) {
		u := l2.UDP(make([]byte, 12))
		u.Encode(&l2.UDPFields{SrcPort: 1, DstPort: 2, Length: 10})
		if !u.IsValid(12) || u.IsValid(9) || len(u.Payload()) != 2 || u.SourcePort() != 1 || u.DestinationPort() != 2 {
			t.Errorf("% x", u)
		}
	})
	t.Run("arp", func(t *testing.T) {
		a := l2.ARP(make([]byte, l2.ARPSize))
		a.Encode(l2.ARPReply, l2test.OurMAC, host4.Addr(), l2test.GuestMAC, guest4.Addr())
		if !a.IsValid() || a.Op() != l2.ARPReply || a.SenderHW() != l2test.OurMAC || a.SenderIP() != host4.Addr() ||
			a.TargetHW() != l2test.GuestMAC || a.TargetIP() != guest4.Addr() || l2.ARP(a[:27]).IsValid() {
			t.Errorf("% x", a)
		}
	})
	t.Run("icmp", func(t *testing.T) {
		c := l2.ICMPv4(make([]byte, 10))
		c.SetType(l2.ICMPv4Echo)
		c.SetIdent(9)
		c.SetSequence(10)
		c.SetChecksum(c.CalculateChecksum())
		if !c.IsValid() || c.Ident() != 9 || c.Sequence() != 10 || len(c.Payload()) != 2 || l2.Fold(l2.Checksum(c, 0)) != 0 {
			t.Errorf("% x", c)
		}
		c6 := l2.ICMPv6([]byte{l2.ICMPv6EchoRequest, 0, 0, 0, 0, 0, 0})
		if c6.IsValid() {
			t.Error("ICMPv6 echo of 7 bytes accepted")
		}
		if !l2.ICMPv6([]byte{l2.ICMPv6NeighborSolicit, 0, 0, 0}).IsValid() || l2.ICMPv6([]byte{1, 0, 0}).IsValid() {
			t.Error("ICMPv6 4-byte minimum")
		}
	})
}
