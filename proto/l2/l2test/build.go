// SPDX-License-Identifier: GPL-2.0-or-later

package l2test

import (
	"encoding/binary"
	"net/netip"

	"gopasst/proto/l2"
)

// Default link addresses: the guest's (qemu's default) and ours (passt's).
var (
	GuestMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	OurMAC   = [6]byte{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
)

// TCP flag shorthands.
const (
	FIN = l2.TCPFlagFin
	SYN = l2.TCPFlagSyn
	RST = l2.TCPFlagRst
	PSH = l2.TCPFlagPsh
	ACK = l2.TCPFlagAck
	URG = l2.TCPFlagUrg
	ECE = l2.TCPFlagEce
	CWR = l2.TCPFlagCwr
)

// Option changes how a builder builds a frame.
type Option func(*config)

type config struct {
	link      l2.Link
	window    uint16
	tcpOpts   []byte
	vlans     []uint16
	icmpType  int // -1: builder default
	badL4Csum bool
	badIPCsum bool
	ndpNoLLA  bool
}

func newConfig(opts []Option) *config {
	c := &config{window: 65535, icmpType: -1}
	c.link.SrcMAC, c.link.DstMAC = GuestMAC, OurMAC
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithSrcMAC sets the Ethernet source.
func WithSrcMAC(m [6]byte) Option { return func(c *config) { c.link.SrcMAC = m } }

// WithDstMAC sets the Ethernet destination.
func WithDstMAC(m [6]byte) Option { return func(c *config) { c.link.DstMAC = m } }

// WithTTL sets the IPv4 TTL or IPv6 hop limit.
func WithTTL(v uint8) Option { return func(c *config) { c.link.TTL = v } }

// WithTOS sets the IPv4 TOS or IPv6 traffic class.
func WithTOS(v uint8) Option { return func(c *config) { c.link.TOS = v } }

// WithID sets the IPv4 identification.
func WithID(v uint16) Option { return func(c *config) { c.link.ID = v } }

// WithDF sets the IPv4 don't-fragment flag.
func WithDF() Option { return func(c *config) { c.link.DontFragment = true } }

// WithFlowLabel sets the IPv6 flow label.
func WithFlowLabel(v uint32) Option { return func(c *config) { c.link.FlowLabel = v } }

// WithWindow sets the TCP window field (default 65535).
func WithWindow(v uint16) Option { return func(c *config) { c.window = v } }

// WithTCPOptions appends raw TCP option bytes.
func WithTCPOptions(raw []byte) Option {
	return func(c *config) { c.tcpOpts = append(c.tcpOpts, raw...) }
}

// WithMSS appends an MSS option.
func WithMSS(mss uint16) Option {
	return WithTCPOptions([]byte{l2.TCPOptionMSS, 4, byte(mss >> 8), byte(mss)})
}

// WithWS appends a NOP and a window scale option.
func WithWS(shift uint8) Option {
	return WithTCPOptions([]byte{l2.TCPOptionNOP, l2.TCPOptionWS, 3, shift})
}

// WithSACKPermitted appends two NOPs and SACK-permitted.
func WithSACKPermitted() Option {
	return WithTCPOptions([]byte{l2.TCPOptionNOP, l2.TCPOptionNOP, l2.TCPOptionSACKPermitted, 2})
}

// WithTimestamps appends two NOPs and a timestamp option.
func WithTimestamps(val, ecr uint32) Option {
	var b [12]byte
	l2.PutTCPOptionTS(b[:], val, ecr)
	return WithTCPOptions(b[:])
}

// WithVLAN adds an 802.1Q tag with the given VLAN ID; repeat for QinQ
// (the first call is the outer tag, sent with TPID 0x88a8 if there are
// two or more).
func WithVLAN(id uint16) Option { return func(c *config) { c.vlans = append(c.vlans, id) } }

// WithICMPType overrides the ICMP type of an echo builder (e.g. a reply).
func WithICMPType(t uint8) Option { return func(c *config) { c.icmpType = int(t) } }

// WithBadL4Checksum corrupts the transport checksum.
func WithBadL4Checksum() Option { return func(c *config) { c.badL4Csum = true } }

// WithBadIPChecksum corrupts the IPv4 header checksum.
func WithBadIPChecksum() Option { return func(c *config) { c.badIPCsum = true } }

// WithoutLLA leaves out the link-layer address option of RS and NS.
func WithoutLLA() Option { return func(c *config) { c.ndpNoLLA = true } }

func (c *config) finish(b []byte, n int) []byte {
	if n == 0 {
		panic("l2test: builder failed: address family mismatch or frame too large")
	}
	b = b[:n]
	var f l2.Frame
	if err := f.Parse(b); err == nil && !f.IsFragment {
		if c.badL4Csum {
			off := -1
			switch f.L4Proto {
			case l2.ProtoTCP:
				off = 16
			case l2.ProtoUDP:
				off = 6
			case l2.ProtoICMP, l2.ProtoICMPv6:
				off = 2
			}
			if off >= 0 {
				b[f.L4+off] ^= 0x5a
			}
		}
		if c.badIPCsum && f.EtherType == l2.EtherTypeIPv4 {
			b[f.L3+10] ^= 0x5a
		}
	}
	if len(c.vlans) == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+4*len(c.vlans))
	out = append(out, b[:12]...)
	for i, id := range c.vlans {
		tpid := uint16(l2.EtherTypeVLAN)
		if i < len(c.vlans)-1 {
			tpid = l2.EtherTypeQinQ
		}
		out = binary.BigEndian.AppendUint16(out, tpid)
		out = binary.BigEndian.AppendUint16(out, id&0xfff)
	}
	return append(out, b[12:]...)
}

// TCP4 returns a TCP/IPv4 frame.
func TCP4(src, dst netip.AddrPort, flags l2.TCPFlags, seq, ack uint32, payload []byte, opts ...Option) []byte {
	return tcp(src, dst, flags, seq, ack, payload, opts, l2.BuildTCP4)
}

// TCP6 returns a TCP/IPv6 frame.
func TCP6(src, dst netip.AddrPort, flags l2.TCPFlags, seq, ack uint32, payload []byte, opts ...Option) []byte {
	return tcp(src, dst, flags, seq, ack, payload, opts, l2.BuildTCP6)
}

func tcp(src, dst netip.AddrPort, flags l2.TCPFlags, seq, ack uint32, payload []byte, opts []Option,
	build func([]byte, *l2.TCPSegment) int) []byte {
	c := newConfig(opts)
	b := make([]byte, l2.TCP6HeaderSize+40+len(payload))
	n := build(b, &l2.TCPSegment{
		Link: c.link, Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: flags,
		Window: c.window, Options: c.tcpOpts, Payload: payload,
	})
	return c.finish(b, n)
}

// UDP4 returns a UDP/IPv4 frame.
func UDP4(src, dst netip.AddrPort, payload []byte, opts ...Option) []byte {
	return udp(src, dst, payload, opts, l2.BuildUDP4)
}

// UDP6 returns a UDP/IPv6 frame.
func UDP6(src, dst netip.AddrPort, payload []byte, opts ...Option) []byte {
	return udp(src, dst, payload, opts, l2.BuildUDP6)
}

func udp(src, dst netip.AddrPort, payload []byte, opts []Option, build func([]byte, *l2.UDPDatagram) int) []byte {
	c := newConfig(opts)
	b := make([]byte, l2.UDP6HeaderSize+len(payload))
	n := build(b, &l2.UDPDatagram{Link: c.link, Src: src, Dst: dst, Payload: payload})
	return c.finish(b, n)
}

// Echo4 returns an ICMP echo request (or the type WithICMPType sets).
func Echo4(src, dst netip.Addr, ident, seq uint16, payload []byte, opts ...Option) []byte {
	return echo(src, dst, ident, seq, payload, opts, l2.ICMPv4Echo, l2.BuildICMPv4)
}

// Echo6 returns an ICMPv6 echo request (or the type WithICMPType sets).
func Echo6(src, dst netip.Addr, ident, seq uint16, payload []byte, opts ...Option) []byte {
	return echo(src, dst, ident, seq, payload, opts, l2.ICMPv6EchoRequest, l2.BuildICMPv6)
}

func echo(src, dst netip.Addr, ident, seq uint16, payload []byte, opts []Option, typ uint8,
	build func([]byte, *l2.ICMPMessage) int) []byte {
	c := newConfig(opts)
	if c.icmpType >= 0 {
		typ = uint8(c.icmpType)
	}
	b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+8+len(payload))
	n := build(b, &l2.ICMPMessage{
		Link: c.link, Src: src, Dst: dst, Type: typ, Ident: ident, Sequence: seq, Payload: payload,
	})
	return c.finish(b, n)
}

// ICMPv6Message returns an ICMPv6 frame with the given type, code and body (the
// message after the checksum field).
func ICMPv6Message(src, dst netip.Addr, typ, code uint8, body []byte, opts ...Option) []byte {
	c := newConfig(opts)
	b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+4+len(body))
	if body == nil {
		body = []byte{}
	}
	n := l2.BuildICMPv6(b, &l2.ICMPMessage{Link: c.link, Src: src, Dst: dst, Type: typ, Code: code, Body: body})
	return c.finish(b, n)
}

// ARPRequest returns a broadcast ARP request from sha/spa for tpa.
func ARPRequest(sha [6]byte, spa, tpa netip.Addr, opts ...Option) []byte {
	c := newConfig(append([]Option{WithDstMAC(l2.BroadcastMAC)}, opts...))
	b := make([]byte, l2.EthernetSize+l2.ARPSize)
	return c.finish(b, l2.BuildARP(b, c.link.DstMAC, l2.ARPRequest, sha, spa, [6]byte{}, tpa))
}

// ARPReply returns an ARP reply from sha/spa to tha/tpa.
func ARPReply(sha [6]byte, spa netip.Addr, tha [6]byte, tpa netip.Addr, opts ...Option) []byte {
	c := newConfig(append([]Option{WithDstMAC(tha)}, opts...))
	b := make([]byte, l2.EthernetSize+l2.ARPSize)
	return c.finish(b, l2.BuildARP(b, c.link.DstMAC, l2.ARPReply, sha, spa, tha, tpa))
}

// AllRouters is ff02::2, AllNodes ff02::1.
var (
	AllRouters = netip.MustParseAddr("ff02::2")
	AllNodes   = netip.MustParseAddr("ff02::1")
)

// SolicitedNode returns the solicited-node multicast address of a.
func SolicitedNode(a netip.Addr) netip.Addr {
	v := a.As16()
	s := [16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: v[13], 14: v[14], 15: v[15]}
	return netip.AddrFrom16(s)
}

// MulticastMAC returns the Ethernet address for IPv6 multicast a (33:33:…).
func MulticastMAC(a netip.Addr) [6]byte {
	v := a.As16()
	return [6]byte{0x33, 0x33, v[12], v[13], v[14], v[15]}
}

// RouterSolicit returns a router solicitation from src (the guest's
// link-local address, or :: without LLA option) to ff02::2, with a source
// link-layer address option of the source MAC unless src is unspecified or
// WithoutLLA is given. Hop limit 255.
func RouterSolicit(src netip.Addr, opts ...Option) []byte {
	c := newConfig(append([]Option{WithTTL(255), WithDstMAC(MulticastMAC(AllRouters))}, opts...))
	body := make([]byte, 4, 12)
	if !src.IsUnspecified() && !c.ndpNoLLA {
		body = body[:12]
		l2.PutNDPOptionLLA(body[4:], l2.NDPOptionSourceLLA, c.link.SrcMAC)
	}
	b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+4+len(body))
	n := l2.BuildICMPv6(b, &l2.ICMPMessage{Link: c.link, Src: src, Dst: AllRouters, Type: l2.ICMPv6RouterSolicit, Body: body})
	return c.finish(b, n)
}

// NeighborSolicit returns a neighbor solicitation for target from src to
// target's solicited-node address, with a source link-layer address option
// unless src is unspecified (duplicate address detection) or WithoutLLA is
// given. Hop limit 255.
func NeighborSolicit(src, target netip.Addr, opts ...Option) []byte {
	dst := SolicitedNode(target)
	c := newConfig(append([]Option{WithTTL(255), WithDstMAC(MulticastMAC(dst))}, opts...))
	body := make([]byte, 20, 28)
	t := target.As16()
	copy(body[4:], t[:])
	if !src.IsUnspecified() && !c.ndpNoLLA {
		body = body[:28]
		l2.PutNDPOptionLLA(body[20:], l2.NDPOptionSourceLLA, c.link.SrcMAC)
	}
	b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+4+len(body))
	n := l2.BuildICMPv6(b, &l2.ICMPMessage{Link: c.link, Src: src, Dst: dst, Type: l2.ICMPv6NeighborSolicit, Body: body})
	return c.finish(b, n)
}

// NeighborAdvert returns a neighbor advertisement for target from src to
// dst with the given flags and a target link-layer address option of the
// source MAC. Hop limit 255.
func NeighborAdvert(src, dst, target netip.Addr, flags uint8, opts ...Option) []byte {
	c := newConfig(append([]Option{WithTTL(255)}, opts...))
	body := make([]byte, 28)
	body[0] = flags
	t := target.As16()
	copy(body[4:], t[:])
	l2.PutNDPOptionLLA(body[20:], l2.NDPOptionTargetLLA, c.link.SrcMAC)
	b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+4+len(body))
	n := l2.BuildICMPv6(b, &l2.ICMPMessage{Link: c.link, Src: src, Dst: dst, Type: l2.ICMPv6NeighborAdvert, Body: body})
	return c.finish(b, n)
}
