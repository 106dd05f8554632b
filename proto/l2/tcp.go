// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "encoding/binary"

const (
	tcpSrcPortOffset  = 0
	tcpDstPortOffset  = 2
	tcpSeqNumOffset   = 4
	tcpAckNumOffset   = 8
	tcpDataOffOffset  = 12
	tcpFlagsOffset    = 13
	tcpWindowOffset   = 14
	tcpChecksumOffset = 16
	tcpUrgentOffset   = 18
)

// TCP is a TCP header at the start of a byte slice (RFC 9293), usually
// sliced to the end of the segment.
//
// Fixed-offset accessors need len(b) >= TCPMinSize, which IsValid and
// Frame.Parse guarantee. Options and Payload clamp to len(b) and never
// panic.
type TCP []byte

// TCPFields holds the fields Encode writes. The data offset follows from
// the options.
type TCPFields struct {
	SrcPort       uint16
	DstPort       uint16
	SeqNum        uint32
	AckNum        uint32
	Flags         TCPFlags
	WindowSize    uint16 // unscaled, as on the wire
	Checksum      uint16 // written as is
	UrgentPointer uint16
	Options       []byte // copied and padded with EOL to a multiple of 4, at most 40 bytes
}

// IsValid reports whether b holds a TCP header of a segment of segLen bytes
// (segLen <= len(b)): 20 <= data offset <= segLen.
func (b TCP) IsValid(segLen int) bool {
	if len(b) < TCPMinSize || segLen > len(b) {
		return false
	}
	d := b.DataOffset()
	return d >= TCPMinSize && d <= segLen
}

// SourcePort returns the source port.
func (b TCP) SourcePort() uint16 { return binary.BigEndian.Uint16(b[tcpSrcPortOffset:]) }

// DestinationPort returns the destination port.
func (b TCP) DestinationPort() uint16 { return binary.BigEndian.Uint16(b[tcpDstPortOffset:]) }

// SequenceNumber returns the sequence number.
func (b TCP) SequenceNumber() uint32 { return binary.BigEndian.Uint32(b[tcpSeqNumOffset:]) }

// AckNumber returns the acknowledgment number.
func (b TCP) AckNumber() uint32 { return binary.BigEndian.Uint32(b[tcpAckNumOffset:]) }

// DataOffset returns the header length in bytes (data offset * 4).
func (b TCP) DataOffset() int { return int(b[tcpDataOffOffset]>>4) * 4 }

// Flags returns the flags byte.
func (b TCP) Flags() TCPFlags { return TCPFlags(b[tcpFlagsOffset]) }

// WindowSize returns the window field, unscaled.
func (b TCP) WindowSize() uint16 { return binary.BigEndian.Uint16(b[tcpWindowOffset:]) }

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[tcpChecksumOffset:]) }

// UrgentPointer returns the urgent pointer.
func (b TCP) UrgentPointer() uint16 { return binary.BigEndian.Uint16(b[tcpUrgentOffset:]) }

// Options returns b[20:DataOffset()], clamped to b.
func (b TCP) Options() []byte {
	if len(b) < TCPMinSize {
		return nil
	}
	return b[TCPMinSize:clamp(b.DataOffset(), TCPMinSize, len(b))]
}

// Payload returns b[DataOffset():], clamped to b.
func (b TCP) Payload() []byte {
	if len(b) < TCPMinSize {
		return nil
	}
	return b[clamp(b.DataOffset(), TCPMinSize, len(b)):]
}

// SetSourcePort sets the source port.
func (b TCP) SetSourcePort(v uint16) { binary.BigEndian.PutUint16(b[tcpSrcPortOffset:], v) }

// SetDestinationPort sets the destination port.
func (b TCP) SetDestinationPort(v uint16) { binary.BigEndian.PutUint16(b[tcpDstPortOffset:], v) }

// SetSequenceNumber sets the sequence number.
func (b TCP) SetSequenceNumber(v uint32) { binary.BigEndian.PutUint32(b[tcpSeqNumOffset:], v) }

// SetAckNumber sets the acknowledgment number.
func (b TCP) SetAckNumber(v uint32) { binary.BigEndian.PutUint32(b[tcpAckNumOffset:], v) }

// SetDataOffset sets the header length in bytes (a multiple of 4, 20..60).
func (b TCP) SetDataOffset(n int) { b[tcpDataOffOffset] = uint8(n/4) << 4 }

// SetFlags sets the flags byte.
func (b TCP) SetFlags(f TCPFlags) { b[tcpFlagsOffset] = uint8(f) }

// SetWindowSize sets the window field.
func (b TCP) SetWindowSize(v uint16) { binary.BigEndian.PutUint16(b[tcpWindowOffset:], v) }

// SetChecksum sets the checksum field.
func (b TCP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(b[tcpChecksumOffset:], v) }

// SetUrgentPointer sets the urgent pointer.
func (b TCP) SetUrgentPointer(v uint16) { binary.BigEndian.PutUint16(b[tcpUrgentOffset:], v) }

// Encode writes the header and options from f and returns the header
// length. It needs len(b) >= 20 + padded options.
func (b TCP) Encode(f *TCPFields) int {
	ol := min((len(f.Options)+3)&^3, TCPMaxSize-TCPMinSize)
	hl := TCPMinSize + ol
	_ = b[hl-1]
	b.SetSourcePort(f.SrcPort)
	b.SetDestinationPort(f.DstPort)
	b.SetSequenceNumber(f.SeqNum)
	b.SetAckNumber(f.AckNum)
	b.SetDataOffset(hl)
	b.SetFlags(f.Flags)
	b.SetWindowSize(f.WindowSize)
	b.SetChecksum(f.Checksum)
	b.SetUrgentPointer(f.UrgentPointer)
	n := copy(b[TCPMinSize:hl], f.Options)
	clear(b[TCPMinSize+n : hl])
	return hl
}

// CalculateChecksum returns the checksum for b (header and payload, the
// checksum field taken as zero) given the pseudo-header sum.
func (b TCP) CalculateChecksum(pseudo uint32) uint16 {
	s := Checksum(b[:tcpChecksumOffset], pseudo)
	s = Checksum(b[tcpChecksumOffset+2:], s)
	return Fold(s)
}

// TCPFlags is the TCP flags byte.
type TCPFlags uint8

// TCP flags.
const (
	TCPFlagFin TCPFlags = 1 << iota
	TCPFlagSyn
	TCPFlagRst
	TCPFlagPsh
	TCPFlagAck
	TCPFlagUrg
	TCPFlagEce
	TCPFlagCwr
)

var tcpFlagNames = [8]string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"}

// Contains reports whether all of want are set.
func (f TCPFlags) Contains(want TCPFlags) bool { return f&want == want }

// String joins the names of the set flags with '|', lowest bit first:
// "syn|ack". No flags is "none".
func (f TCPFlags) String() string {
	if f == 0 {
		return "none"
	}
	var buf [8 * 4]byte
	s := buf[:0]
	for i, n := range tcpFlagNames {
		if f&(1<<i) != 0 {
			if len(s) > 0 {
				s = append(s, '|')
			}
			s = append(s, n...)
		}
	}
	return string(s)
}
