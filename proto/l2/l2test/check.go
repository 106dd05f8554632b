// SPDX-License-Identifier: GPL-2.0-or-later

package l2test

import (
	"bytes"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
)

// NetworkChecker checks the link or network layer of a parsed frame.
type NetworkChecker func(testing.TB, *l2.Frame)

// TransportChecker checks the transport layer of a parsed frame.
type TransportChecker func(testing.TB, *l2.Frame)

// Parse parses frame with every optional check on and fails the test on
// error.
func Parse(t testing.TB, frame []byte) *l2.Frame {
	t.Helper()
	f := &l2.Frame{Flags: l2.CheckIPv4Checksum | l2.CheckTCPOptions}
	if err := f.Parse(frame); err != nil {
		t.Fatalf("l2test: frame does not parse: %v (% x)", err, frame)
	}
	return f
}

// IPv4 checks that frame is a valid IPv4 frame with correct checksums and
// runs checkers on it. It returns the parsed frame.
func IPv4(t testing.TB, frame []byte, checkers ...NetworkChecker) *l2.Frame {
	t.Helper()
	return ip(t, frame, l2.EtherTypeIPv4, checkers)
}

// IPv6 is IPv4 for IPv6.
func IPv6(t testing.TB, frame []byte, checkers ...NetworkChecker) *l2.Frame {
	t.Helper()
	return ip(t, frame, l2.EtherTypeIPv6, checkers)
}

func ip(t testing.TB, frame []byte, et uint16, checkers []NetworkChecker) *l2.Frame {
	t.Helper()
	f := Parse(t, frame)
	if f.EtherType != et {
		t.Fatalf("EtherType = %#04x, want %#04x", f.EtherType, et)
	}
	if !f.IsFragment {
		switch f.L4Proto {
		case l2.ProtoTCP, l2.ProtoUDP, l2.ProtoICMP, l2.ProtoICMPv6:
			if !f.L4ChecksumValid() {
				t.Errorf("bad %d checksum", f.L4Proto)
			}
		}
	}
	for _, c := range checkers {
		c(t, f)
	}
	return f
}

// ARP checks that frame is a valid ARP frame and runs checkers on it.
func ARP(t testing.TB, frame []byte, checkers ...NetworkChecker) *l2.Frame {
	t.Helper()
	f := Parse(t, frame)
	if f.EtherType != l2.EtherTypeARP {
		t.Fatalf("EtherType = %#04x, want ARP", f.EtherType)
	}
	for _, c := range checkers {
		c(t, f)
	}
	return f
}

// ARPOp checks the ARP operation.
func ARPOp(op uint16) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.ARP().Op(); got != op {
			t.Errorf("ARP op = %d, want %d", got, op)
		}
	}
}

// ARPSender checks the sender hardware and protocol addresses.
func ARPSender(hw [6]byte, ip netip.Addr) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		a := f.ARP()
		if a.SenderHW() != hw || a.SenderIP() != ip {
			t.Errorf("ARP sender = %x %v, want %x %v", a.SenderHW(), a.SenderIP(), hw, ip)
		}
	}
}

// ARPTarget checks the target hardware and protocol addresses.
func ARPTarget(hw [6]byte, ip netip.Addr) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		a := f.ARP()
		if a.TargetHW() != hw || a.TargetIP() != ip {
			t.Errorf("ARP target = %x %v, want %x %v", a.TargetHW(), a.TargetIP(), hw, ip)
		}
	}
}

// SrcMAC checks the Ethernet source.
func SrcMAC(m [6]byte) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.Ethernet().Source(); got != m {
			t.Errorf("source MAC = %x, want %x", got, m)
		}
	}
}

// DstMAC checks the Ethernet destination.
func DstMAC(m [6]byte) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.Ethernet().Destination(); got != m {
			t.Errorf("destination MAC = %x, want %x", got, m)
		}
	}
}

// SrcAddr checks the IP source address.
func SrcAddr(a netip.Addr) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if f.Src != a {
			t.Errorf("source address = %v, want %v", f.Src, a)
		}
	}
}

// DstAddr checks the IP destination address.
func DstAddr(a netip.Addr) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if f.Dst != a {
			t.Errorf("destination address = %v, want %v", f.Dst, a)
		}
	}
}

// TTL checks the IPv4 TTL or IPv6 hop limit.
func TTL(v uint8) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		var got uint8
		if f.EtherType == l2.EtherTypeIPv4 {
			got = f.IPv4().TTL()
		} else {
			got = f.IPv6().HopLimit()
		}
		if got != v {
			t.Errorf("TTL = %d, want %d", got, v)
		}
	}
}

// TOS checks the IPv4 TOS or IPv6 traffic class.
func TOS(v uint8) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		var got uint8
		if f.EtherType == l2.EtherTypeIPv4 {
			got = f.IPv4().TOS()
		} else {
			got = f.IPv6().TrafficClass()
		}
		if got != v {
			t.Errorf("TOS = %#x, want %#x", got, v)
		}
	}
}

// VLANTags checks how many VLAN tags the frame carried.
func VLANTags(n int) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if f.VLANTags != n {
			t.Errorf("VLAN tags = %d, want %d", f.VLANTags, n)
		}
	}
}

func transport(proto uint8, name string, checkers []TransportChecker) NetworkChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if f.L4Proto != proto {
			t.Errorf("protocol = %d, want %s (%d)", f.L4Proto, name, proto)
			return
		}
		if f.IsFragment {
			t.Errorf("%s packet is a fragment", name)
			return
		}
		for _, c := range checkers {
			c(t, f)
		}
	}
}

// TCP checks that the frame carries TCP and runs checkers on it.
func TCP(checkers ...TransportChecker) NetworkChecker {
	return transport(l2.ProtoTCP, "TCP", checkers)
}

// UDP checks that the frame carries UDP and runs checkers on it.
func UDP(checkers ...TransportChecker) NetworkChecker {
	return transport(l2.ProtoUDP, "UDP", checkers)
}

// ICMPv4 checks that the frame carries ICMP and runs checkers on it.
func ICMPv4(checkers ...TransportChecker) NetworkChecker {
	return transport(l2.ProtoICMP, "ICMP", checkers)
}

// ICMPv6 checks that the frame carries ICMPv6 and runs checkers on it.
func ICMPv6(checkers ...TransportChecker) NetworkChecker {
	return transport(l2.ProtoICMPv6, "ICMPv6", checkers)
}

func ports(f *l2.Frame) (src, dst uint16) {
	if f.L4Proto == l2.ProtoTCP {
		return f.TCP().SourcePort(), f.TCP().DestinationPort()
	}
	return f.UDP().SourcePort(), f.UDP().DestinationPort()
}

// SrcPort checks the TCP or UDP source port.
func SrcPort(p uint16) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got, _ := ports(f); got != p {
			t.Errorf("source port = %d, want %d", got, p)
		}
	}
}

// DstPort checks the TCP or UDP destination port.
func DstPort(p uint16) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if _, got := ports(f); got != p {
			t.Errorf("destination port = %d, want %d", got, p)
		}
	}
}

// TCPFlags checks that the TCP flags are exactly want.
func TCPFlags(want l2.TCPFlags) TransportChecker {
	return TCPFlagsMatch(want, 0xff)
}

// TCPFlagsMatch checks the TCP flags under mask.
func TCPFlagsMatch(want, mask l2.TCPFlags) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.TCP().Flags(); got&mask != want&mask {
			t.Errorf("TCP flags = %v, want %v (mask %v)", got, want, mask)
		}
	}
}

// SeqNum checks the TCP sequence number.
func SeqNum(v uint32) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.TCP().SequenceNumber(); got != v {
			t.Errorf("sequence number = %d, want %d", got, v)
		}
	}
}

// AckNum checks the TCP acknowledgment number.
func AckNum(v uint32) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.TCP().AckNumber(); got != v {
			t.Errorf("ack number = %d, want %d", got, v)
		}
	}
}

// Window checks the TCP window field (unscaled).
func Window(v uint16) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.TCP().WindowSize(); got != v {
			t.Errorf("window = %d, want %d", got, v)
		}
	}
}

// MSS checks the TCP MSS option.
func MSS(v uint16) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		o, _ := l2.ParseTCPOptions(f.TCP().Options())
		if !o.HasMSS || o.MSS != v {
			t.Errorf("MSS = %d (present %v), want %d", o.MSS, o.HasMSS, v)
		}
	}
}

// WindowScale checks the TCP window scale option.
func WindowScale(v uint8) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		o, _ := l2.ParseTCPOptions(f.TCP().Options())
		if !o.HasWS || o.WindowScale != v {
			t.Errorf("window scale = %d (present %v), want %d", o.WindowScale, o.HasWS, v)
		}
	}
}

// NoTCPOptions checks that the segment has no options.
func NoTCPOptions() TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if o := f.TCP().Options(); len(o) != 0 {
			t.Errorf("TCP options = % x, want none", o)
		}
	}
}

// Payload checks the transport payload bytes.
func Payload(want []byte) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.PayloadBytes(); !bytes.Equal(got, want) {
			t.Errorf("payload = %q, want %q", got, want)
		}
	}
}

// PayloadLen checks the transport payload length.
func PayloadLen(n int) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := len(f.PayloadBytes()); got != n {
			t.Errorf("payload length = %d, want %d", got, n)
		}
	}
}

// ICMPType checks the ICMP or ICMPv6 type.
func ICMPType(v uint8) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.Raw[f.L4]; got != v {
			t.Errorf("ICMP type = %d, want %d", got, v)
		}
	}
}

// ICMPCode checks the ICMP or ICMPv6 code.
func ICMPCode(v uint8) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		if got := f.Raw[f.L4+1]; got != v {
			t.Errorf("ICMP code = %d, want %d", got, v)
		}
	}
}

// EchoIdent checks the echo identifier.
func EchoIdent(v uint16) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		b := f.L4Bytes()
		if len(b) < 8 {
			t.Errorf("ICMP message too short for echo: %d bytes", len(b))
			return
		}
		if got := l2.ICMPv4(b).Ident(); got != v {
			t.Errorf("echo ident = %d, want %d", got, v)
		}
	}
}

// EchoSeq checks the echo sequence number.
func EchoSeq(v uint16) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		b := f.L4Bytes()
		if len(b) < 8 {
			t.Errorf("ICMP message too short for echo: %d bytes", len(b))
			return
		}
		if got := l2.ICMPv4(b).Sequence(); got != v {
			t.Errorf("echo sequence = %d, want %d", got, v)
		}
	}
}

// NDPTarget checks the target address of a neighbor solicitation or
// advertisement.
func NDPTarget(a netip.Addr) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		ns := l2.NDPNeighborSolicit(f.L4Bytes())
		if !ns.IsValid() {
			t.Errorf("NDP message too short: %d bytes", len(ns))
			return
		}
		if got := ns.TargetAddress(); got != a {
			t.Errorf("NDP target = %v, want %v", got, a)
		}
	}
}

// NDPOption checks that the NDP message has a link-layer address option
// of type typ (l2.NDPOptionSourceLLA or l2.NDPOptionTargetLLA) with mac.
// The options start after the fixed part of the message type.
func NDPOption(typ uint8, mac [6]byte) TransportChecker {
	return func(t testing.TB, f *l2.Frame) {
		t.Helper()
		b := f.L4Bytes()
		var opts l2.NDPOptions
		switch b[0] {
		case l2.ICMPv6RouterSolicit:
			opts = l2.NDPRouterSolicit(b).Options()
		case l2.ICMPv6RouterAdvert:
			opts = l2.NDPRouterAdvert(b).Options()
		case l2.ICMPv6NeighborSolicit, l2.ICMPv6NeighborAdvert:
			opts = l2.NDPNeighborSolicit(b).Options()
		default:
			t.Errorf("ICMPv6 type %d is not NDP", b[0])
			return
		}
		if !opts.IsValid() {
			t.Errorf("malformed NDP options % x", opts)
		}
		got, ok := opts.LinkLayerAddress(typ)
		if !ok || got != mac {
			t.Errorf("NDP option %d = %x (present %v), want %x", typ, got, ok, mac)
		}
	}
}
