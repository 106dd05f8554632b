// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import (
	"encoding/binary"
	"net/netip"
)

const (
	ipv4VersIHLOffset   = 0
	ipv4TOSOffset       = 1
	ipv4TotalLenOffset  = 2
	ipv4IDOffset        = 4
	ipv4FlagsFragOffset = 6
	ipv4TTLOffset       = 8
	ipv4ProtocolOffset  = 9
	ipv4ChecksumOffset  = 10
	ipv4SrcAddrOffset   = 12
	ipv4DstAddrOffset   = 16
)

// IPv4 flags as returned by IPv4.Flags (the top 3 bits of byte 6).
const (
	IPv4FlagMoreFragments = 1 << 0
	IPv4FlagDontFragment  = 1 << 1
)

// IPv4 is an IPv4 header at the start of a byte slice (RFC 791). Methods
// read and write the packet in place.
//
// Fixed-offset accessors need len(b) >= IPv4MinSize, which IsValid and
// Frame.Parse guarantee. Options and Payload clamp to len(b) and never
// panic.
type IPv4 []byte

// IPv4Fields holds the fields Encode writes.
type IPv4Fields struct {
	TOS            uint8
	TotalLength    uint16 // header plus payload, bytes
	ID             uint16
	Flags          uint8  // IPv4FlagDontFragment, IPv4FlagMoreFragments
	FragmentOffset uint16 // bytes, a multiple of 8
	TTL            uint8
	Protocol       uint8
	Checksum       uint16 // written as is; see CalculateChecksum
	SrcAddr        netip.Addr
	DstAddr        netip.Addr
	Options        []byte // copied and zero-padded to a multiple of 4, at most 40 bytes
}

// IsValid reports whether b starts with a well-formed IPv4 header of a
// packet of which pktLen bytes are present (pktLen <= len(b)): version 4,
// IHL >= 5, and header length <= total length <= pktLen. It does not check
// the header checksum (see IsChecksumValid).
func (b IPv4) IsValid(pktLen int) bool {
	if len(b) < IPv4MinSize || pktLen > len(b) || b[0]>>4 != 4 {
		return false
	}
	hl := b.HeaderLength()
	tl := int(b.TotalLength())
	return hl >= IPv4MinSize && hl <= tl && tl <= pktLen
}

// Version returns the IP version, 4 for a valid header.
func (b IPv4) Version() uint8 { return b[ipv4VersIHLOffset] >> 4 }

// HeaderLength returns the header length in bytes (IHL * 4).
func (b IPv4) HeaderLength() int { return int(b[ipv4VersIHLOffset]&0xf) * 4 }

// TOS returns the type of service (DSCP and ECN) byte.
func (b IPv4) TOS() uint8 { return b[ipv4TOSOffset] }

// TotalLength returns the total length field, header included.
func (b IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(b[ipv4TotalLenOffset:]) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipv4IDOffset:]) }

// Flags returns the three flag bits (IPv4FlagDontFragment, IPv4FlagMoreFragments).
func (b IPv4) Flags() uint8 { return b[ipv4FlagsFragOffset] >> 5 }

// FragmentOffset returns the fragment offset in bytes.
func (b IPv4) FragmentOffset() uint16 {
	return (binary.BigEndian.Uint16(b[ipv4FlagsFragOffset:]) & 0x1fff) * 8
}

// MoreFragments reports whether the MF flag is set.
func (b IPv4) MoreFragments() bool { return b.Flags()&IPv4FlagMoreFragments != 0 }

// DontFragment reports whether the DF flag is set.
func (b IPv4) DontFragment() bool { return b.Flags()&IPv4FlagDontFragment != 0 }

// IsFragment reports whether the packet is a fragment: MF set or a non-zero
// offset.
func (b IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(b[ipv4FlagsFragOffset:])&0x3fff != 0
}

// TTL returns the "time to live" field.
func (b IPv4) TTL() uint8 { return b[ipv4TTLOffset] }

// Protocol returns the upper-layer protocol number.
func (b IPv4) Protocol() uint8 { return b[ipv4ProtocolOffset] }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4ChecksumOffset:]) }

// SourceAddress returns the source address.
func (b IPv4) SourceAddress() netip.Addr {
	return netip.AddrFrom4([4]byte(b[ipv4SrcAddrOffset : ipv4SrcAddrOffset+4]))
}

// DestinationAddress returns the destination address.
func (b IPv4) DestinationAddress() netip.Addr {
	return netip.AddrFrom4([4]byte(b[ipv4DstAddrOffset : ipv4DstAddrOffset+4]))
}

// Options returns the options area, b[20:HeaderLength()], clamped to b.
func (b IPv4) Options() []byte {
	if len(b) < IPv4MinSize {
		return nil
	}
	return b[IPv4MinSize:clamp(b.HeaderLength(), IPv4MinSize, len(b))]
}

// Payload returns b[HeaderLength():TotalLength()], clamped to b.
func (b IPv4) Payload() []byte {
	if len(b) < IPv4MinSize {
		return nil
	}
	hl := clamp(b.HeaderLength(), 0, len(b))
	return b[hl:clamp(int(b.TotalLength()), hl, len(b))]
}

// SetTOS sets the type of service byte.
func (b IPv4) SetTOS(v uint8) { b[ipv4TOSOffset] = v }

// SetTotalLength sets the total length field.
func (b IPv4) SetTotalLength(v uint16) { binary.BigEndian.PutUint16(b[ipv4TotalLenOffset:], v) }

// SetID sets the identification field.
func (b IPv4) SetID(v uint16) { binary.BigEndian.PutUint16(b[ipv4IDOffset:], v) }

// SetFlagsFragmentOffset sets the flags and the fragment offset (bytes).
func (b IPv4) SetFlagsFragmentOffset(flags uint8, offset uint16) {
	binary.BigEndian.PutUint16(b[ipv4FlagsFragOffset:], uint16(flags)<<13|(offset/8)&0x1fff)
}

// SetTTL sets the time to live.
func (b IPv4) SetTTL(v uint8) { b[ipv4TTLOffset] = v }

// SetProtocol sets the protocol number.
func (b IPv4) SetProtocol(v uint8) { b[ipv4ProtocolOffset] = v }

// SetChecksum sets the header checksum field.
func (b IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[ipv4ChecksumOffset:], v) }

// SetSourceAddress sets the source address; a must be IPv4.
func (b IPv4) SetSourceAddress(a netip.Addr) {
	v := a.As4()
	copy(b[ipv4SrcAddrOffset:], v[:])
}

// SetDestinationAddress sets the destination address; a must be IPv4.
func (b IPv4) SetDestinationAddress(a netip.Addr) {
	v := a.As4()
	copy(b[ipv4DstAddrOffset:], v[:])
}

// CalculateChecksum returns the header checksum over b[:HeaderLength()]
// with the checksum field taken as zero: the value for SetChecksum.
// It needs len(b) >= HeaderLength().
func (b IPv4) CalculateChecksum() uint16 {
	hl := b.HeaderLength()
	s := Checksum(b[:ipv4ChecksumOffset], 0)
	s = Checksum(b[ipv4ChecksumOffset+2:hl], s)
	return Fold(s)
}

// IsChecksumValid reports whether the header checksum is correct. It needs
// len(b) >= HeaderLength().
func (b IPv4) IsChecksumValid() bool {
	return Fold(Checksum(b[:b.HeaderLength()], 0)) == 0
}

// Encode writes a header from f and returns its length, 20 plus the padded
// options. It needs len(b) >= that length.
func (b IPv4) Encode(f *IPv4Fields) int {
	ol := min((len(f.Options)+3)&^3, IPv4MaxSize-IPv4MinSize)
	hl := IPv4MinSize + ol
	_ = b[hl-1]
	b[ipv4VersIHLOffset] = 0x40 | uint8(hl/4)
	b[ipv4TOSOffset] = f.TOS
	b.SetTotalLength(f.TotalLength)
	b.SetID(f.ID)
	b.SetFlagsFragmentOffset(f.Flags, f.FragmentOffset)
	b[ipv4TTLOffset] = f.TTL
	b[ipv4ProtocolOffset] = f.Protocol
	b.SetChecksum(f.Checksum)
	b.SetSourceAddress(f.SrcAddr)
	b.SetDestinationAddress(f.DstAddr)
	n := copy(b[IPv4MinSize:hl], f.Options)
	clear(b[IPv4MinSize+n : hl])
	return hl
}

// clamp returns v limited to [lo, hi]; if hi < lo it returns lo.
func clamp(v, lo, hi int) int {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}
