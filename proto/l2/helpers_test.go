// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"encoding/binary"
	"net/netip"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

var (
	guest4 = netip.MustParseAddrPort("10.0.2.15:40000")
	host4  = netip.MustParseAddrPort("93.184.216.34:80")
	guest6 = netip.MustParseAddrPort("[2001:db8::15]:40000")
	host6  = netip.MustParseAddrPort("[2001:db8:1::34]:443")
	ll6    = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
)

// mutate returns a copy of b changed by fn.
func mutate(b []byte, fn func(b []byte) []byte) []byte {
	c := append([]byte(nil), b...)
	return fn(c)
}

// ipv6Raw builds an Ethernet+IPv6 frame whose payload is rest, with the
// fixed header's next header nh and a correct payload length.
func ipv6Raw(nh uint8, rest []byte) []byte {
	b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+len(rest))
	l2.Ethernet(b).Encode(l2test.OurMAC, l2test.GuestMAC, l2.EtherTypeIPv6)
	l2.IPv6(b[l2.EthernetSize:]).Encode(&l2.IPv6Fields{
		PayloadLength: uint16(len(rest)), NextHeader: nh, HopLimit: 64,
		SrcAddr: guest6.Addr(), DstAddr: host6.Addr(),
	})
	copy(b[l2.EthernetSize+l2.IPv6MinSize:], rest)
	return b
}

// ext returns an 8-byte extension header (hop-by-hop, routing or
// destination options layout) with next header nh and PadN filler.
func ext(nh uint8) []byte { return []byte{nh, 0, 1, 4, 0, 0, 0, 0} }

// fragHdr returns a fragment header with next header nh, offset in bytes
// and the M flag.
func fragHdr(nh uint8, offset uint16, more bool) []byte {
	b := []byte{nh, 0, 0, 0, 0, 0, 0, 1}
	v := offset &^ 7
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(b[2:], v)
	return b
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// tcpHdr returns a bare 20-byte TCP header plus opts with data offset set
// for them (opts must be a multiple of 4), checksum not set.
func tcpHdr(opts []byte) []byte {
	b := make([]byte, l2.TCPMinSize+len(opts))
	l2.TCP(b).Encode(&l2.TCPFields{SrcPort: 40000, DstPort: 80, Flags: l2.TCPFlagSyn, Options: opts})
	return b
}

// setIPv4 rewrites IHL, total length and header checksum through fn.
func fixIPv4Checksum(b []byte, l3 int) {
	ip := l2.IPv4(b[l3:])
	ip.SetChecksum(ip.CalculateChecksum())
}

// fixL4Checksum sets the TCP, UDP or ICMPv6 checksum of a frame.
func fixL4Checksum(b []byte) []byte {
	var f l2.Frame
	if err := f.Parse(b); err != nil {
		panic(err)
	}
	seg := f.L4Bytes()
	ps := l2.PseudoHeaderSum(f.Src, f.Dst, f.L4Proto, len(seg))
	switch f.L4Proto {
	case l2.ProtoTCP:
		l2.TCP(seg).SetChecksum(l2.TCP(seg).CalculateChecksum(ps))
	case l2.ProtoUDP:
		l2.UDP(seg).SetChecksum(l2.UDP(seg).CalculateChecksum(ps))
	case l2.ProtoICMPv6:
		l2.ICMPv6(seg).SetChecksum(l2.ICMPv6(seg).CalculateChecksum(ps))
	}
	return b
}
