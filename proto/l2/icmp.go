// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "encoding/binary"

// ICMPv4 types (RFC 792).
const (
	ICMPv4EchoReply      = 0
	ICMPv4DstUnreachable = 3
	ICMPv4Echo           = 8
	ICMPv4TimeExceeded   = 11
)

// ICMPv6 types (RFC 4443, RFC 4861).
const (
	ICMPv6DstUnreachable  = 1
	ICMPv6PacketTooBig    = 2
	ICMPv6TimeExceeded    = 3
	ICMPv6ParamProblem    = 4
	ICMPv6EchoRequest     = 128
	ICMPv6EchoReply       = 129
	ICMPv6RouterSolicit   = 133
	ICMPv6RouterAdvert    = 134
	ICMPv6NeighborSolicit = 135
	ICMPv6NeighborAdvert  = 136
	ICMPv6Redirect        = 137
)

const (
	icmpTypeOffset     = 0
	icmpCodeOffset     = 1
	icmpChecksumOffset = 2
	icmpIdentOffset    = 4
	icmpSeqOffset      = 6
)

// ICMPv4 is an ICMP message at the start of a byte slice (RFC 792).
//
// Accessors need len(b) >= ICMPv4MinSize, which IsValid and Frame.Parse
// guarantee. Payload clamps and never panics.
type ICMPv4 []byte

// IsValid reports whether b is long enough for an ICMP header.
func (b ICMPv4) IsValid() bool { return len(b) >= ICMPv4MinSize }

// Type returns the message type.
func (b ICMPv4) Type() uint8 { return b[icmpTypeOffset] }

// Code returns the message code.
func (b ICMPv4) Code() uint8 { return b[icmpCodeOffset] }

// Checksum returns the checksum field.
func (b ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpChecksumOffset:]) }

// Ident returns the echo identifier.
func (b ICMPv4) Ident() uint16 { return binary.BigEndian.Uint16(b[icmpIdentOffset:]) }

// Sequence returns the echo sequence number.
func (b ICMPv4) Sequence() uint16 { return binary.BigEndian.Uint16(b[icmpSeqOffset:]) }

// Payload returns the data after the 8-byte header, b[8:], clamped.
func (b ICMPv4) Payload() []byte { return b[min(ICMPv4MinSize, len(b)):] }

// SetType sets the message type.
func (b ICMPv4) SetType(v uint8) { b[icmpTypeOffset] = v }

// SetCode sets the message code.
func (b ICMPv4) SetCode(v uint8) { b[icmpCodeOffset] = v }

// SetChecksum sets the checksum field.
func (b ICMPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[icmpChecksumOffset:], v) }

// SetIdent sets the echo identifier.
func (b ICMPv4) SetIdent(v uint16) { binary.BigEndian.PutUint16(b[icmpIdentOffset:], v) }

// SetSequence sets the echo sequence number.
func (b ICMPv4) SetSequence(v uint16) { binary.BigEndian.PutUint16(b[icmpSeqOffset:], v) }

// CalculateChecksum returns the checksum over all of b with the checksum
// field taken as zero (ICMPv4 has no pseudo-header).
func (b ICMPv4) CalculateChecksum() uint16 {
	s := Checksum(b[:icmpChecksumOffset], 0)
	return Fold(Checksum(b[icmpChecksumOffset+2:], s))
}

// ICMPv6 is an ICMPv6 message at the start of a byte slice (RFC 4443).
//
// Type, Code and Checksum need len(b) >= ICMPv6MinSize; Ident and Sequence
// need ICMPv6EchoMinSize (Frame.Parse guarantees it for echo messages).
// Payload and MessageBody clamp and never panic.
type ICMPv6 []byte

// IsValid reports whether b is long enough for its type: 8 bytes for echo
// messages, 4 otherwise.
func (b ICMPv6) IsValid() bool {
	if len(b) < ICMPv6MinSize {
		return false
	}
	if t := b[0]; t == ICMPv6EchoRequest || t == ICMPv6EchoReply {
		return len(b) >= ICMPv6EchoMinSize
	}
	return true
}

// Type returns the message type.
func (b ICMPv6) Type() uint8 { return b[icmpTypeOffset] }

// Code returns the message code.
func (b ICMPv6) Code() uint8 { return b[icmpCodeOffset] }

// Checksum returns the checksum field.
func (b ICMPv6) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpChecksumOffset:]) }

// Ident returns the echo identifier.
func (b ICMPv6) Ident() uint16 { return binary.BigEndian.Uint16(b[icmpIdentOffset:]) }

// Sequence returns the echo sequence number.
func (b ICMPv6) Sequence() uint16 { return binary.BigEndian.Uint16(b[icmpSeqOffset:]) }

// MessageBody returns b[4:], clamped: everything after type, code and
// checksum.
func (b ICMPv6) MessageBody() []byte { return b[min(ICMPv6MinSize, len(b)):] }

// Payload returns b[8:], clamped: the echo data, or the data after the
// 4-byte MTU/pointer/unused field of error messages.
func (b ICMPv6) Payload() []byte { return b[min(ICMPv6EchoMinSize, len(b)):] }

// SetType sets the message type.
func (b ICMPv6) SetType(v uint8) { b[icmpTypeOffset] = v }

// SetCode sets the message code.
func (b ICMPv6) SetCode(v uint8) { b[icmpCodeOffset] = v }

// SetChecksum sets the checksum field.
func (b ICMPv6) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[icmpChecksumOffset:], v) }

// SetIdent sets the echo identifier.
func (b ICMPv6) SetIdent(v uint16) { binary.BigEndian.PutUint16(b[icmpIdentOffset:], v) }

// SetSequence sets the echo sequence number.
func (b ICMPv6) SetSequence(v uint16) { binary.BigEndian.PutUint16(b[icmpSeqOffset:], v) }

// CalculateChecksum returns the checksum over all of b, given the
// pseudo-header sum, with the checksum field taken as zero.
func (b ICMPv6) CalculateChecksum(pseudo uint32) uint16 {
	s := Checksum(b[:icmpChecksumOffset], pseudo)
	return Fold(Checksum(b[icmpChecksumOffset+2:], s))
}
