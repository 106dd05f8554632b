// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import (
	"encoding/binary"
	"net/netip"
)

const (
	ipv6VersTCFLOffset   = 0
	ipv6PayloadLenOffset = 4
	ipv6NextHeaderOffset = 6
	ipv6HopLimitOffset   = 7
	ipv6SrcAddrOffset    = 8
	ipv6DstAddrOffset    = 24
)

// IPv6 is an IPv6 header at the start of a byte slice (RFC 8200).
//
// Fixed-offset accessors need len(b) >= IPv6MinSize, which IsValid and
// Frame.Parse guarantee. Payload and UpperLayer clamp to len(b) and never
// panic.
type IPv6 []byte

// IPv6Fields holds the fields Encode writes.
type IPv6Fields struct {
	TrafficClass  uint8
	FlowLabel     uint32 // low 20 bits
	PayloadLength uint16 // bytes after the fixed header, extension headers included
	NextHeader    uint8
	HopLimit      uint8
	SrcAddr       netip.Addr
	DstAddr       netip.Addr
}

// IsValid reports whether b starts with an IPv6 header of a packet of which
// pktLen bytes are present (pktLen <= len(b)): version 6 and
// 40 + payload length <= pktLen. Extension headers are checked by
// UpperLayer.
func (b IPv6) IsValid(pktLen int) bool {
	return len(b) >= IPv6MinSize && pktLen <= len(b) && b[0]>>4 == 6 &&
		IPv6MinSize+int(b.PayloadLength()) <= pktLen
}

// Version returns the IP version, 6 for a valid header.
func (b IPv6) Version() uint8 { return b[ipv6VersTCFLOffset] >> 4 }

// TrafficClass returns the traffic class (DSCP and ECN).
func (b IPv6) TrafficClass() uint8 { return b[0]<<4 | b[1]>>4 }

// FlowLabel returns the 20-bit flow label.
func (b IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(b[0:]) & 0xfffff }

// PayloadLength returns the payload length field.
func (b IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(b[ipv6PayloadLenOffset:]) }

// NextHeader returns the next header field of the fixed header.
func (b IPv6) NextHeader() uint8 { return b[ipv6NextHeaderOffset] }

// HopLimit returns the hop limit.
func (b IPv6) HopLimit() uint8 { return b[ipv6HopLimitOffset] }

// SourceAddress returns the source address.
func (b IPv6) SourceAddress() netip.Addr {
	return netip.AddrFrom16([16]byte(b[ipv6SrcAddrOffset : ipv6SrcAddrOffset+16]))
}

// DestinationAddress returns the destination address.
func (b IPv6) DestinationAddress() netip.Addr {
	return netip.AddrFrom16([16]byte(b[ipv6DstAddrOffset : ipv6DstAddrOffset+16]))
}

// Payload returns b[40:40+PayloadLength()], clamped to b.
func (b IPv6) Payload() []byte {
	if len(b) < IPv6MinSize {
		return nil
	}
	return b[IPv6MinSize:clamp(IPv6MinSize+int(b.PayloadLength()), IPv6MinSize, len(b))]
}

// SetTrafficClass sets the traffic class.
func (b IPv6) SetTrafficClass(v uint8) {
	b[0] = b[0]&0xf0 | v>>4
	b[1] = b[1]&0x0f | v<<4
}

// SetFlowLabel sets the flow label (low 20 bits of v).
func (b IPv6) SetFlowLabel(v uint32) {
	w := binary.BigEndian.Uint32(b[0:])&^0xfffff | v&0xfffff
	binary.BigEndian.PutUint32(b[0:], w)
}

// SetPayloadLength sets the payload length field.
func (b IPv6) SetPayloadLength(v uint16) { binary.BigEndian.PutUint16(b[ipv6PayloadLenOffset:], v) }

// SetNextHeader sets the next header field.
func (b IPv6) SetNextHeader(v uint8) { b[ipv6NextHeaderOffset] = v }

// SetHopLimit sets the hop limit.
func (b IPv6) SetHopLimit(v uint8) { b[ipv6HopLimitOffset] = v }

// SetSourceAddress sets the source address; an IPv4 a is written mapped.
func (b IPv6) SetSourceAddress(a netip.Addr) {
	v := a.As16()
	copy(b[ipv6SrcAddrOffset:], v[:])
}

// SetDestinationAddress sets the destination address.
func (b IPv6) SetDestinationAddress(a netip.Addr) {
	v := a.As16()
	copy(b[ipv6DstAddrOffset:], v[:])
}

// Encode writes the fixed header from f. It needs len(b) >= IPv6MinSize.
func (b IPv6) Encode(f *IPv6Fields) {
	_ = b[IPv6MinSize-1]
	binary.BigEndian.PutUint32(b[0:], 6<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&0xfffff)
	b.SetPayloadLength(f.PayloadLength)
	b[ipv6NextHeaderOffset] = f.NextHeader
	b[ipv6HopLimitOffset] = f.HopLimit
	b.SetSourceAddress(f.SrcAddr)
	b.SetDestinationAddress(f.DstAddr)
}

// UpperLayer walks the extension headers (hop-by-hop, routing, destination
// options, fragment, AH) and returns the upper-layer protocol and its offset
// from the start of b. A packet ending in "no next header" returns
// ProtoNoNext and the offset of the end of the chain. ok is false when the
// chain overruns the payload, is longer than MaxIPv6ExtHeaders, puts
// hop-by-hop anywhere but first, or holds two fragment headers. For a
// non-first fragment the returned offset is that of the fragment data, not
// of an upper-layer header. It never panics; b need not be validated.
func (b IPv6) UpperLayer() (proto uint8, offset int, ok bool) {
	if len(b) < IPv6MinSize {
		return 0, 0, false
	}
	end := clamp(IPv6MinSize+int(b.PayloadLength()), IPv6MinSize, len(b))
	p, off, _, err := walkIPv6Ext(b[:end], b.NextHeader(), IPv6MinSize)
	return p, off, err == nil
}

// walkIPv6Ext walks the extension header chain in b starting at off with
// next header nh. frag reports a fragment header with a non-zero offset or
// the M flag (an atomic fragment, RFC 6946, is not a fragment).
func walkIPv6Ext(b []byte, nh uint8, off int) (proto uint8, l4 int, frag bool, err error) {
	seenFrag := false
	for n := 0; ; n++ {
		var hl int
		switch nh {
		case ProtoHopByHop, ProtoRouting, ProtoDestOpts:
			if nh == ProtoHopByHop && n != 0 {
				return nh, off, frag, ErrExtHeaderOrder
			}
			if len(b)-off < 8 {
				return nh, off, frag, ErrExtHeaderLength
			}
			hl = (int(b[off+1]) + 1) * 8
		case ProtoFragment:
			if seenFrag {
				return nh, off, frag, ErrExtHeaderChain
			}
			seenFrag = true
			if len(b)-off < 8 {
				return nh, off, frag, ErrExtHeaderLength
			}
			hl = 8
			fo := binary.BigEndian.Uint16(b[off+2:])
			if fo&0xfff9 != 0 { // offset or M set
				frag = true
			}
			if fo&0xfff8 != 0 {
				// Non-first fragment: no further headers to parse.
				return b[off], off + hl, true, nil
			}
		case ProtoAH:
			if len(b)-off < 8 {
				return nh, off, frag, ErrExtHeaderLength
			}
			hl = (int(b[off+1]) + 2) * 4
		default:
			// Upper layer, ESP, no next header, or unknown: stop.
			return nh, off, frag, nil
		}
		if n >= MaxIPv6ExtHeaders {
			return nh, off, frag, ErrExtHeaderChain
		}
		if hl > len(b)-off {
			return nh, off, frag, ErrExtHeaderLength
		}
		nh = b[off]
		off += hl
	}
}
