// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import (
	"encoding/binary"
	"net/netip"
)

// NDP message sizes (RFC 4861 section 4), from the ICMPv6 type byte to the
// first option.
const (
	NDPRouterSolicitSize   = 8
	NDPRouterAdvertSize    = 16
	NDPNeighborSolicitSize = 24
	NDPNeighborAdvertSize  = 24
)

// NDP option types (RFC 4861 section 4.6, RFC 8106, RFC 4191).
const (
	NDPOptionSourceLLA  = 1
	NDPOptionTargetLLA  = 2
	NDPOptionPrefixInfo = 3
	NDPOptionRedirected = 4
	NDPOptionMTU        = 5
	NDPOptionRouteInfo  = 24
	NDPOptionRDNSS      = 25
	NDPOptionDNSSL      = 31

	NDPOptionLLASize    = 8
	NDPOptionPrefixSize = 32
	NDPOptionMTUSize    = 8
)

// Router advertisement flags (RFC 4861 section 4.2).
const (
	NDPRAFlagManaged = 0x80 // M: addresses from DHCPv6
	NDPRAFlagOther   = 0x40 // O: other configuration from DHCPv6
)

// Neighbor advertisement flags (RFC 4861 section 4.4), top bits of byte 4.
const (
	NDPNAFlagRouter    = 0x80
	NDPNAFlagSolicited = 0x40
	NDPNAFlagOverride  = 0x20
)

// Prefix information flags (RFC 4861 section 4.6.2).
const (
	NDPPrefixFlagOnLink     = 0x80 // L
	NDPPrefixFlagAutonomous = 0x40 // A: SLAAC
)

// NDPRouterSolicit is a router solicitation, the whole ICMPv6 message.
// Accessors need IsValid.
type NDPRouterSolicit []byte

// IsValid reports whether b is long enough for a router solicitation.
func (b NDPRouterSolicit) IsValid() bool { return len(b) >= NDPRouterSolicitSize }

// Options returns the options area.
func (b NDPRouterSolicit) Options() NDPOptions {
	return NDPOptions(b[min(NDPRouterSolicitSize, len(b)):])
}

// NDPRouterAdvert is a router advertisement, the whole ICMPv6 message.
// Accessors need IsValid.
type NDPRouterAdvert []byte

// IsValid reports whether b is long enough for a router advertisement.
func (b NDPRouterAdvert) IsValid() bool { return len(b) >= NDPRouterAdvertSize }

// CurHopLimit returns the advertised hop limit.
func (b NDPRouterAdvert) CurHopLimit() uint8 { return b[4] }

// Flags returns the M/O flags byte.
func (b NDPRouterAdvert) Flags() uint8 { return b[5] }

// RouterLifetime returns the router lifetime in seconds.
func (b NDPRouterAdvert) RouterLifetime() uint16 { return binary.BigEndian.Uint16(b[6:]) }

// ReachableTime returns the reachable time in milliseconds.
func (b NDPRouterAdvert) ReachableTime() uint32 { return binary.BigEndian.Uint32(b[8:]) }

// RetransTimer returns the retransmission timer in milliseconds.
func (b NDPRouterAdvert) RetransTimer() uint32 { return binary.BigEndian.Uint32(b[12:]) }

// Options returns the options area.
func (b NDPRouterAdvert) Options() NDPOptions {
	return NDPOptions(b[min(NDPRouterAdvertSize, len(b)):])
}

// Encode writes type, code, zero checksum and the fixed fields. It needs
// len(b) >= NDPRouterAdvertSize.
func (b NDPRouterAdvert) Encode(curHopLimit, flags uint8, lifetime uint16, reachable, retrans uint32) {
	_ = b[NDPRouterAdvertSize-1]
	b[0], b[1], b[2], b[3] = ICMPv6RouterAdvert, 0, 0, 0
	b[4], b[5] = curHopLimit, flags
	binary.BigEndian.PutUint16(b[6:], lifetime)
	binary.BigEndian.PutUint32(b[8:], reachable)
	binary.BigEndian.PutUint32(b[12:], retrans)
}

// NDPNeighborSolicit is a neighbor solicitation, the whole ICMPv6 message.
// Accessors need IsValid.
type NDPNeighborSolicit []byte

// IsValid reports whether b is long enough for a neighbor solicitation.
func (b NDPNeighborSolicit) IsValid() bool { return len(b) >= NDPNeighborSolicitSize }

// TargetAddress returns the target address.
func (b NDPNeighborSolicit) TargetAddress() netip.Addr { return netip.AddrFrom16([16]byte(b[8:24])) }

// Options returns the options area.
func (b NDPNeighborSolicit) Options() NDPOptions {
	return NDPOptions(b[min(NDPNeighborSolicitSize, len(b)):])
}

// Encode writes type, code, zero checksum, reserved and target.
func (b NDPNeighborSolicit) Encode(target netip.Addr) {
	_ = b[NDPNeighborSolicitSize-1]
	b[0], b[1], b[2], b[3] = ICMPv6NeighborSolicit, 0, 0, 0
	clear(b[4:8])
	t := target.As16()
	copy(b[8:], t[:])
}

// NDPNeighborAdvert is a neighbor advertisement, the whole ICMPv6 message.
// Accessors need IsValid.
type NDPNeighborAdvert []byte

// IsValid reports whether b is long enough for a neighbor advertisement.
func (b NDPNeighborAdvert) IsValid() bool { return len(b) >= NDPNeighborAdvertSize }

// Flags returns the R/S/O flags byte.
func (b NDPNeighborAdvert) Flags() uint8 { return b[4] }

// TargetAddress returns the target address.
func (b NDPNeighborAdvert) TargetAddress() netip.Addr { return netip.AddrFrom16([16]byte(b[8:24])) }

// Options returns the options area.
func (b NDPNeighborAdvert) Options() NDPOptions {
	return NDPOptions(b[min(NDPNeighborAdvertSize, len(b)):])
}

// Encode writes type, code, zero checksum, flags and target.
func (b NDPNeighborAdvert) Encode(flags uint8, target netip.Addr) {
	_ = b[NDPNeighborAdvertSize-1]
	b[0], b[1], b[2], b[3] = ICMPv6NeighborAdvert, 0, 0, 0
	b[4], b[5], b[6], b[7] = flags, 0, 0, 0
	t := target.As16()
	copy(b[8:], t[:])
}

// NDPOptions is an NDP options area: type, length in units of 8 octets
// (including type and length), value.
type NDPOptions []byte

// Iter returns an iterator over the options.
func (o NDPOptions) Iter() NDPOptionIterator { return NDPOptionIterator{rest: o} }

// IsValid reports whether every option has a non-zero length that fits.
// RFC 4861 section 4.6: a zero length means the packet must be discarded.
func (o NDPOptions) IsValid() bool {
	it := o.Iter()
	for {
		if _, _, ok := it.Next(); !ok {
			return !it.Invalid()
		}
	}
}

// LinkLayerAddress returns the value of the first source (typ
// NDPOptionSourceLLA) or target (NDPOptionTargetLLA) link-layer address
// option for Ethernet (length 1).
func (o NDPOptions) LinkLayerAddress(typ uint8) ([6]byte, bool) {
	it := o.Iter()
	for {
		t, v, ok := it.Next()
		if !ok {
			return [6]byte{}, false
		}
		if t == typ && len(v) == NDPOptionLLASize-2 {
			return [6]byte(v), true
		}
	}
}

// NDPOptionIterator walks an NDPOptions area. The zero value is empty. It
// is bounded by the length of the area: every step consumes at least 8
// bytes.
type NDPOptionIterator struct {
	rest    []byte
	invalid bool
}

// Next returns the next option's type and value (the bytes after type and
// length, so 8*length-2 of them). ok is false at the end of the area or at
// a malformed option (zero length, or longer than what remains); Invalid
// tells the two apart.
func (it *NDPOptionIterator) Next() (typ uint8, value []byte, ok bool) {
	if len(it.rest) == 0 || it.invalid {
		return 0, nil, false
	}
	if len(it.rest) < 2 {
		it.invalid = true
		return 0, nil, false
	}
	l := int(it.rest[1]) * 8
	if l == 0 || l > len(it.rest) {
		it.invalid = true
		return 0, nil, false
	}
	typ, value = it.rest[0], it.rest[2:l]
	it.rest = it.rest[l:]
	return typ, value, true
}

// Invalid reports whether iteration stopped at a malformed option.
func (it *NDPOptionIterator) Invalid() bool { return it.invalid }

// PutNDPOptionLLA writes a source or target link-layer address option and
// returns its size (8).
func PutNDPOptionLLA(b []byte, typ uint8, mac [6]byte) int {
	_ = b[NDPOptionLLASize-1]
	b[0], b[1] = typ, 1
	copy(b[2:], mac[:])
	return NDPOptionLLASize
}

// PutNDPOptionMTU writes an MTU option and returns its size (8).
func PutNDPOptionMTU(b []byte, mtu uint32) int {
	_ = b[NDPOptionMTUSize-1]
	b[0], b[1], b[2], b[3] = NDPOptionMTU, 1, 0, 0
	binary.BigEndian.PutUint32(b[4:], mtu)
	return NDPOptionMTUSize
}

// PutNDPOptionPrefix writes a prefix information option and returns its
// size (32). Lifetimes are in seconds; 0xffffffff is infinity.
func PutNDPOptionPrefix(b []byte, p netip.Prefix, flags uint8, valid, preferred uint32) int {
	_ = b[NDPOptionPrefixSize-1]
	b[0], b[1], b[2], b[3] = NDPOptionPrefixInfo, 4, uint8(p.Bits()), flags
	binary.BigEndian.PutUint32(b[4:], valid)
	binary.BigEndian.PutUint32(b[8:], preferred)
	clear(b[12:16])
	a := p.Masked().Addr().As16()
	copy(b[16:], a[:])
	return NDPOptionPrefixSize
}

// PutNDPOptionRDNSS writes a recursive DNS server option (RFC 8106) with
// addrs and returns its size, 8 + 16*len(addrs). It needs len(addrs) >= 1
// and room in b.
func PutNDPOptionRDNSS(b []byte, lifetime uint32, addrs []netip.Addr) int {
	n := 8 + 16*len(addrs)
	_ = b[n-1]
	b[0], b[1], b[2], b[3] = NDPOptionRDNSS, uint8(n/8), 0, 0
	binary.BigEndian.PutUint32(b[4:], lifetime)
	for i, a := range addrs {
		v := a.As16()
		copy(b[8+16*i:], v[:])
	}
	return n
}
