// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "net/netip"

// DefaultTTL is the TTL and hop limit builders use when none is given.
const DefaultTTL = 64

// Header sizes of whole untagged frames up to the transport payload.
const (
	TCP4HeaderSize = EthernetSize + IPv4MinSize + TCPMinSize
	TCP6HeaderSize = EthernetSize + IPv6MinSize + TCPMinSize
	UDP4HeaderSize = EthernetSize + IPv4MinSize + UDPSize
	UDP6HeaderSize = EthernetSize + IPv6MinSize + UDPSize
)

// Link and network addressing shared by the builders.
type Link struct {
	SrcMAC, DstMAC [6]byte
	TTL            uint8  // TTL or hop limit; 0 means DefaultTTL
	TOS            uint8  // IPv4 TOS or IPv6 traffic class
	ID             uint16 // IPv4 identification
	DontFragment   bool   // IPv4 DF
	FlowLabel      uint32 // IPv6
}

// TCPSegment describes a segment for BuildTCP4, BuildTCP6 and
// TCPTemplate.Init.
type TCPSegment struct {
	Link
	Src, Dst netip.AddrPort // both IPv4 (BuildTCP4) or both IPv6 (BuildTCP6)
	Seq, Ack uint32
	Flags    TCPFlags
	Window   uint16
	Options  []byte // raw options, padded with EOL to a multiple of 4; at most 40 bytes
	Payload  []byte // copied to the end of the headers; may already be in place
}

// UDPDatagram describes a datagram for BuildUDP4 and BuildUDP6.
type UDPDatagram struct {
	Link
	Src, Dst netip.AddrPort
	Payload  []byte // may already be in place
}

// ICMPMessage describes an ICMP or ICMPv6 message for BuildICMPv4 and
// BuildICMPv6.
type ICMPMessage struct {
	Link
	Src, Dst netip.Addr
	Type     uint8
	Code     uint8
	Ident    uint16 // echo identifier (bytes 4-5)
	Sequence uint16 // echo sequence number (bytes 6-7)
	Payload  []byte // after the 8-byte header; may already be in place
	// Body, if not nil, replaces Ident, Sequence and Payload: it is the
	// whole message after the checksum field (for NDP and error messages).
	Body []byte
}

func (l *Link) ttl() uint8 {
	if l.TTL == 0 {
		return DefaultTTL
	}
	return l.TTL
}

// putIPv4 writes an option-less IPv4 header with its checksum into b.
func putIPv4(b []byte, l *Link, src, dst netip.Addr, proto uint8, totalLen int) {
	ip := IPv4(b)
	var fl uint8
	if l.DontFragment {
		fl = IPv4FlagDontFragment
	}
	ip.Encode(&IPv4Fields{
		TOS: l.TOS, TotalLength: uint16(totalLen), ID: l.ID, Flags: fl,
		TTL: l.ttl(), Protocol: proto, SrcAddr: src, DstAddr: dst,
	})
	ip.SetChecksum(ip.CalculateChecksum())
}

func putIPv6(b []byte, l *Link, src, dst netip.Addr, proto uint8, payloadLen int) {
	IPv6(b).Encode(&IPv6Fields{
		TrafficClass: l.TOS, FlowLabel: l.FlowLabel, PayloadLength: uint16(payloadLen),
		NextHeader: proto, HopLimit: l.ttl(), SrcAddr: src, DstAddr: dst,
	})
}

// BuildTCP4 writes an Ethernet, IPv4 and TCP frame for s into b, with both
// checksums, and returns its length, or 0 if s's addresses are not IPv4 or
// the frame does not fit in b or in 65535 bytes of IP. It does not allocate.
func BuildTCP4(b []byte, s *TCPSegment) int {
	return buildTCP(b, s, false)
}

// BuildTCP6 is BuildTCP4 for IPv6.
func BuildTCP6(b []byte, s *TCPSegment) int {
	return buildTCP(b, s, true)
}

func buildTCP(b []byte, s *TCPSegment, v6 bool) int {
	src, dst := s.Src.Addr(), s.Dst.Addr()
	if !addrFamilyOK(src, dst, v6) || len(s.Options) > TCPMaxSize-TCPMinSize {
		return 0
	}
	ipl := IPv4MinSize
	if v6 {
		ipl = IPv6MinSize
	}
	tl := TCPMinSize + (len(s.Options)+3)&^3 + len(s.Payload)
	n := EthernetSize + ipl + tl
	if n > len(b) || tl+ipl > 0xffff {
		return 0
	}
	l4 := EthernetSize + ipl
	copy(b[l4+tl-len(s.Payload):n], s.Payload)
	if v6 {
		Ethernet(b).Encode(s.DstMAC, s.SrcMAC, EtherTypeIPv6)
		putIPv6(b[EthernetSize:], &s.Link, src, dst, ProtoTCP, tl)
	} else {
		Ethernet(b).Encode(s.DstMAC, s.SrcMAC, EtherTypeIPv4)
		putIPv4(b[EthernetSize:], &s.Link, src, dst, ProtoTCP, ipl+tl)
	}
	t := TCP(b[l4:n])
	t.Encode(&TCPFields{
		SrcPort: s.Src.Port(), DstPort: s.Dst.Port(), SeqNum: s.Seq, AckNum: s.Ack,
		Flags: s.Flags, WindowSize: s.Window, Options: s.Options,
	})
	t.SetChecksum(t.CalculateChecksum(PseudoHeaderSum(src, dst, ProtoTCP, tl)))
	return n
}

// BuildUDP4 writes an Ethernet, IPv4 and UDP frame for d into b, with both
// checksums, and returns its length, or 0 if it does not fit or the
// addresses are not IPv4.
func BuildUDP4(b []byte, d *UDPDatagram) int { return buildUDP(b, d, false) }

// BuildUDP6 is BuildUDP4 for IPv6.
func BuildUDP6(b []byte, d *UDPDatagram) int { return buildUDP(b, d, true) }

func buildUDP(b []byte, d *UDPDatagram, v6 bool) int {
	src, dst := d.Src.Addr(), d.Dst.Addr()
	if !addrFamilyOK(src, dst, v6) {
		return 0
	}
	ipl := IPv4MinSize
	if v6 {
		ipl = IPv6MinSize
	}
	ul := UDPSize + len(d.Payload)
	n := EthernetSize + ipl + ul
	if n > len(b) || ul+ipl > 0xffff {
		return 0
	}
	l4 := EthernetSize + ipl
	copy(b[l4+UDPSize:n], d.Payload)
	if v6 {
		Ethernet(b).Encode(d.DstMAC, d.SrcMAC, EtherTypeIPv6)
		putIPv6(b[EthernetSize:], &d.Link, src, dst, ProtoUDP, ul)
	} else {
		Ethernet(b).Encode(d.DstMAC, d.SrcMAC, EtherTypeIPv4)
		putIPv4(b[EthernetSize:], &d.Link, src, dst, ProtoUDP, ipl+ul)
	}
	u := UDP(b[l4:n])
	u.Encode(&UDPFields{SrcPort: d.Src.Port(), DstPort: d.Dst.Port(), Length: uint16(ul)})
	u.SetChecksum(u.CalculateChecksum(PseudoHeaderSum(src, dst, ProtoUDP, ul)))
	return n
}

// BuildICMPv4 writes an Ethernet, IPv4 and ICMP frame for m into b, with
// both checksums, and returns its length, or 0 if it does not fit.
func BuildICMPv4(b []byte, m *ICMPMessage) int { return buildICMP(b, m, false) }

// BuildICMPv6 writes an Ethernet, IPv6 and ICMPv6 frame for m into b, with
// the checksum, and returns its length, or 0 if it does not fit.
func BuildICMPv6(b []byte, m *ICMPMessage) int { return buildICMP(b, m, true) }

func buildICMP(b []byte, m *ICMPMessage, v6 bool) int {
	if !addrFamilyOK(m.Src, m.Dst, v6) {
		return 0
	}
	ipl, proto := IPv4MinSize, uint8(ProtoICMP)
	if v6 {
		ipl, proto = IPv6MinSize, ProtoICMPv6
	}
	ml := 4 + len(m.Body)
	if m.Body == nil {
		ml = 8 + len(m.Payload)
	}
	n := EthernetSize + ipl + ml
	if n > len(b) || ml+ipl > 0xffff {
		return 0
	}
	l4 := EthernetSize + ipl
	c := ICMPv4(b[l4:n])
	if m.Body == nil {
		copy(c[8:], m.Payload)
		c.SetIdent(m.Ident)
		c.SetSequence(m.Sequence)
	} else {
		copy(c[4:], m.Body)
	}
	c.SetType(m.Type)
	c.SetCode(m.Code)
	if v6 {
		Ethernet(b).Encode(m.DstMAC, m.SrcMAC, EtherTypeIPv6)
		putIPv6(b[EthernetSize:], &m.Link, m.Src, m.Dst, proto, ml)
		c6 := ICMPv6(c)
		c6.SetChecksum(c6.CalculateChecksum(PseudoHeaderSum(m.Src, m.Dst, proto, ml)))
	} else {
		Ethernet(b).Encode(m.DstMAC, m.SrcMAC, EtherTypeIPv4)
		putIPv4(b[EthernetSize:], &m.Link, m.Src, m.Dst, proto, ipl+ml)
		c.SetChecksum(c.CalculateChecksum())
	}
	return n
}

// BuildARP writes an Ethernet frame with an ARP packet into b and returns
// its length (42), or 0 if b is too short. The Ethernet source is sha; the
// destination is dstMAC.
func BuildARP(b []byte, dstMAC [6]byte, op uint16, sha [6]byte, spa netip.Addr, tha [6]byte, tpa netip.Addr) int {
	n := EthernetSize + ARPSize
	if len(b) < n || !spa.Is4() || !tpa.Is4() {
		return 0
	}
	Ethernet(b).Encode(dstMAC, sha, EtherTypeARP)
	ARP(b[EthernetSize:]).Encode(op, sha, spa, tha, tpa)
	return n
}

func addrFamilyOK(src, dst netip.Addr, v6 bool) bool {
	if v6 {
		return src.Is6() && dst.Is6()
	}
	return src.Is4() && dst.Is4()
}
