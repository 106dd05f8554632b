// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import (
	"encoding/binary"
	"net/netip"
)

// ParseFlags select optional checks in Frame.Parse.
type ParseFlags uint8

const (
	// CheckIPv4Checksum verifies the IPv4 header checksum (ErrIPv4Checksum).
	CheckIPv4Checksum ParseFlags = 1 << iota
	// CheckTCPOptions runs ParseTCPOptions on TCP options (ErrTCPOptions).
	CheckTCPOptions
)

// Frame is the result of parsing one Ethernet frame from the guest: offsets
// into Raw for each layer. Offsets are from the start of Raw.
//
// After Parse returned nil, these hold, and every view below may be used
// with all its accessors:
//
//   - EthernetSize <= L3 <= L4 <= Payload <= End <= len(Raw)
//   - ARP: ARP() is valid; L4 = Payload = End = L3 + ARPSize.
//   - IPv4/IPv6: End is L3 + total length (IPv4) or L3 + 40 + payload
//     length (IPv6); bytes after End are Ethernet padding. Src and Dst are set.
//     The one exception is UDP, below.
//   - If IsFragment, L4 is the start of the fragment data and nothing after
//     it was checked: do not use TCP(), UDP() or ICMP views.
//   - Otherwise, by L4Proto: TCP: TCP() is valid, Payload = L4 + data
//     offset. UDP: UDP() is valid, End is trimmed to L4 + UDP length
//     when that is shorter than the IP payload (as Linux trims the skb),
//     Payload = L4 + 8. ICMP (IPv4 only): Payload = L4 + 8. ICMPv6 (IPv6
//     only): Payload = L4 + 8 for echo, L4 + 4 otherwise. Other protocols,
//     including ProtoNoNext: Payload = L4, no L4 header checked.
//
// Flags is input: Parse keeps it. A Frame is reused frame after frame; it
// holds Raw, so do not keep it past the frame buffer's lifetime.
type Frame struct {
	Flags ParseFlags // optional checks; set by the caller, kept by Parse

	Raw       []byte
	EtherType uint16 // after VLAN tags
	VLANTags  int    // number of 802.1Q/802.1ad tags skipped
	L3        int    // network header
	L4        int    // transport header (after IPv6 extension headers)
	L4Proto   uint8  // IP protocol number; 0 for ARP
	Payload   int    // transport payload
	End       int    // end of the packet (excludes Ethernet padding)
	Src, Dst  netip.Addr
	// IsFragment is set for IPv4 with MF or a non-zero offset, and for
	// IPv6 with a fragment header that is not an atomic fragment.
	IsFragment bool
}

// Parse parses an Ethernet frame. It fills f and returns nil, or returns
// one of the sentinel errors in Errors. It never panics, never allocates,
// and walks at most MaxVLANTags tags and MaxIPv6ExtHeaders headers.
func (f *Frame) Parse(b []byte) error {
	*f = Frame{Flags: f.Flags, Raw: b}
	if len(b) < EthernetSize {
		return ErrTruncated
	}
	off := ethTypeOffset
	et := binary.BigEndian.Uint16(b[off:])
	for et == EtherTypeVLAN || et == EtherTypeQinQ {
		if f.VLANTags == MaxVLANTags {
			return ErrVLANDepth
		}
		f.VLANTags++
		off += VLANTagSize
		if len(b) < off+2 {
			return ErrTruncated
		}
		et = binary.BigEndian.Uint16(b[off:])
	}
	f.EtherType = et
	f.L3 = off + 2
	switch et {
	case EtherTypeARP:
		return f.parseARP()
	case EtherTypeIPv4:
		return f.parseIPv4()
	case EtherTypeIPv6:
		return f.parseIPv6()
	}
	return ErrEtherType
}

func (f *Frame) parseARP() error {
	a := ARP(f.Raw[f.L3:])
	if len(a) < ARPSize {
		return ErrTruncated
	}
	if !a.IsValid() {
		return ErrARP
	}
	f.L4 = f.L3 + ARPSize
	f.Payload, f.End = f.L4, f.L4
	f.Src, f.Dst = a.SenderIP(), a.TargetIP()
	return nil
}

func (f *Frame) parseIPv4() error {
	ip := IPv4(f.Raw[f.L3:])
	if len(ip) < IPv4MinSize {
		return ErrTruncated
	}
	if ip.Version() != 4 {
		return ErrIPVersion
	}
	hl := ip.HeaderLength()
	if hl < IPv4MinSize {
		return ErrBadIHL
	}
	if hl > len(ip) {
		return ErrTruncated
	}
	tl := int(ip.TotalLength())
	if tl < hl || tl > len(ip) {
		return ErrIPv4Length
	}
	if f.Flags&CheckIPv4Checksum != 0 && !ip.IsChecksumValid() {
		return ErrIPv4Checksum
	}
	f.Src, f.Dst = ip.SourceAddress(), ip.DestinationAddress()
	f.L4Proto = ip.Protocol()
	f.L4 = f.L3 + hl
	f.End = f.L3 + tl
	f.Payload = f.L4
	if ip.IsFragment() {
		f.IsFragment = true
		return nil
	}
	return f.parseL4(false)
}

func (f *Frame) parseIPv6() error {
	ip := IPv6(f.Raw[f.L3:])
	if len(ip) < IPv6MinSize {
		return ErrTruncated
	}
	if ip.Version() != 6 {
		return ErrIPVersion
	}
	pl := int(ip.PayloadLength())
	if IPv6MinSize+pl > len(ip) {
		return ErrIPv6Length
	}
	f.Src, f.Dst = ip.SourceAddress(), ip.DestinationAddress()
	f.End = f.L3 + IPv6MinSize + pl
	proto, l4, frag, err := walkIPv6Ext(f.Raw[:f.End], ip.NextHeader(), f.L3+IPv6MinSize)
	if err != nil {
		return err
	}
	f.L4Proto, f.L4, f.Payload = proto, l4, l4
	if frag {
		f.IsFragment = true
		return nil
	}
	return f.parseL4(true)
}

// parseL4 checks the transport header in Raw[L4:End].
func (f *Frame) parseL4(v6 bool) error {
	seg := f.Raw[f.L4:f.End]
	switch {
	case f.L4Proto == ProtoTCP:
		if len(seg) < TCPMinSize {
			return ErrTruncated
		}
		t := TCP(seg)
		d := t.DataOffset()
		if d < TCPMinSize || d > len(seg) {
			return ErrTCPDataOffset
		}
		if f.Flags&CheckTCPOptions != 0 {
			if _, ok := ParseTCPOptions(t.Options()); !ok {
				return ErrTCPOptions
			}
		}
		f.Payload = f.L4 + d
	case f.L4Proto == ProtoUDP:
		if len(seg) < UDPSize {
			return ErrTruncated
		}
		l := int(UDP(seg).Length())
		if l < UDPSize || l > len(seg) {
			return ErrUDPLength
		}
		f.Payload = f.L4 + UDPSize
		f.End = f.L4 + l
	case f.L4Proto == ProtoICMP && !v6:
		if len(seg) < ICMPv4MinSize {
			return ErrTruncated
		}
		f.Payload = f.L4 + ICMPv4MinSize
	case f.L4Proto == ProtoICMPv6 && v6:
		if !ICMPv6(seg).IsValid() {
			return ErrTruncated
		}
		if t := seg[0]; t == ICMPv6EchoRequest || t == ICMPv6EchoReply {
			f.Payload = f.L4 + ICMPv6EchoMinSize
		} else {
			f.Payload = f.L4 + ICMPv6MinSize
		}
	}
	return nil
}

// Ethernet returns the Ethernet header view.
func (f *Frame) Ethernet() Ethernet { return Ethernet(f.Raw[:EthernetSize]) }

// ARP returns the ARP view; EtherType must be EtherTypeARP.
func (f *Frame) ARP() ARP { return ARP(f.Raw[f.L3:f.End]) }

// IPv4 returns the IPv4 view, sliced to the total length (which may
// differ from End for UDP); EtherType must be EtherTypeIPv4.
func (f *Frame) IPv4() IPv4 {
	ip := IPv4(f.Raw[f.L3:])
	return ip[:ip.TotalLength()]
}

// IPv6 returns the IPv6 view, sliced to the payload length (which may
// differ from End for UDP); EtherType must be EtherTypeIPv6.
func (f *Frame) IPv6() IPv6 {
	ip := IPv6(f.Raw[f.L3:])
	return ip[:IPv6MinSize+int(ip.PayloadLength())]
}

// TCP returns the TCP view of the whole segment; L4Proto must be ProtoTCP
// and IsFragment false.
func (f *Frame) TCP() TCP { return TCP(f.Raw[f.L4:f.End]) }

// UDP returns the UDP view of the whole datagram; L4Proto must be ProtoUDP
// and IsFragment false.
func (f *Frame) UDP() UDP { return UDP(f.Raw[f.L4:f.End]) }

// ICMPv4 returns the ICMP view of the whole message.
func (f *Frame) ICMPv4() ICMPv4 { return ICMPv4(f.Raw[f.L4:f.End]) }

// ICMPv6 returns the ICMPv6 view of the whole message.
func (f *Frame) ICMPv6() ICMPv6 { return ICMPv6(f.Raw[f.L4:f.End]) }

// L4Bytes returns the transport header and payload, Raw[L4:End].
func (f *Frame) L4Bytes() []byte { return f.Raw[f.L4:f.End] }

// PayloadBytes returns the transport payload, Raw[Payload:End].
func (f *Frame) PayloadBytes() []byte { return f.Raw[f.Payload:f.End] }

// L4Length returns End - L4, the length used in the pseudo-header.
func (f *Frame) L4Length() int { return f.End - f.L4 }

// L4ChecksumValid reports whether the TCP, UDP, ICMP or ICMPv6 checksum is
// correct. An IPv4 UDP checksum of 0 (none) counts as valid. Call it only
// after Parse returned nil and with IsFragment false.
func (f *Frame) L4ChecksumValid() bool {
	seg := f.Raw[f.L4:f.End]
	var s uint32
	switch f.L4Proto {
	case ProtoTCP:
		s = PseudoHeaderSum(f.Src, f.Dst, ProtoTCP, len(seg))
	case ProtoUDP:
		if f.EtherType == EtherTypeIPv4 && UDP(seg).Checksum() == 0 {
			return true
		}
		s = PseudoHeaderSum(f.Src, f.Dst, ProtoUDP, len(seg))
	case ProtoICMP:
	case ProtoICMPv6:
		s = PseudoHeaderSum(f.Src, f.Dst, ProtoICMPv6, len(seg))
	default:
		return false
	}
	return Fold(Checksum(seg, s)) == 0
}
