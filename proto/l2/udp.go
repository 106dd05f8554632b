// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "encoding/binary"

const (
	udpSrcPortOffset  = 0
	udpDstPortOffset  = 2
	udpLengthOffset   = 4
	udpChecksumOffset = 6
)

// UDP is a UDP header at the start of a byte slice (RFC 768).
//
// Fixed-offset accessors need len(b) >= UDPSize, which IsValid and
// Frame.Parse guarantee. Payload clamps to len(b) and never panics.
type UDP []byte

// UDPFields holds the fields Encode writes.
type UDPFields struct {
	SrcPort  uint16
	DstPort  uint16
	Length   uint16 // header plus payload, bytes
	Checksum uint16 // written as is
}

// IsValid reports whether b holds a UDP header of a datagram with pktLen
// bytes present (pktLen <= len(b)): 8 <= length <= pktLen. Bytes past the
// length field are trailing data to ignore, as Linux does.
func (b UDP) IsValid(pktLen int) bool {
	if len(b) < UDPSize || pktLen > len(b) {
		return false
	}
	l := int(b.Length())
	return l >= UDPSize && l <= pktLen
}

// SourcePort returns the source port.
func (b UDP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[udpSrcPortOffset:]) }

// DestinationPort returns the destination port.
func (b UDP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[udpDstPortOffset:]) }

// Length returns the length field (header plus payload).
func (b UDP) Length() uint16 { return binary.BigEndian.Uint16(b[udpLengthOffset:]) }

// Checksum returns the checksum field; 0 means none (IPv4 only).
func (b UDP) Checksum() uint16 { return binary.BigEndian.Uint16(b[udpChecksumOffset:]) }

// Payload returns b[8:Length()], clamped to b.
func (b UDP) Payload() []byte {
	if len(b) < UDPSize {
		return nil
	}
	return b[UDPSize:clamp(int(b.Length()), UDPSize, len(b))]
}

// SetSourcePort sets the source port.
func (b UDP) SetSourcePort(v uint16) { binary.BigEndian.PutUint16(b[udpSrcPortOffset:], v) }

// SetDestinationPort sets the destination port.
func (b UDP) SetDestinationPort(v uint16) { binary.BigEndian.PutUint16(b[udpDstPortOffset:], v) }

// SetLength sets the length field.
func (b UDP) SetLength(v uint16) { binary.BigEndian.PutUint16(b[udpLengthOffset:], v) }

// SetChecksum sets the checksum field.
func (b UDP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[udpChecksumOffset:], v) }

// Encode writes the header from f. It needs len(b) >= UDPSize.
func (b UDP) Encode(f *UDPFields) {
	_ = b[UDPSize-1]
	b.SetSourcePort(f.SrcPort)
	b.SetDestinationPort(f.DstPort)
	b.SetLength(f.Length)
	b.SetChecksum(f.Checksum)
}

// CalculateChecksum returns the checksum for b[:Length()] given the
// pseudo-header sum, with the checksum field taken as zero. A computed zero
// is returned as 0xffff (RFC 768). It needs Length() <= len(b).
func (b UDP) CalculateChecksum(pseudo uint32) uint16 {
	l := int(b.Length())
	s := Checksum(b[:udpChecksumOffset], pseudo)
	s = Checksum(b[udpChecksumOffset+2:l], s)
	c := Fold(s)
	if c == 0 {
		c = 0xffff
	}
	return c
}
