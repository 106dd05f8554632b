// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "encoding/binary"

// TCP option kinds (RFC 9293, RFC 7323, RFC 2018).
const (
	TCPOptionEOL           = 0
	TCPOptionNOP           = 1
	TCPOptionMSS           = 2
	TCPOptionWS            = 3
	TCPOptionSACKPermitted = 4
	TCPOptionSACK          = 5
	TCPOptionTS            = 8

	TCPOptionMSSLength           = 4
	TCPOptionWSLength            = 3
	TCPOptionSACKPermittedLength = 2
	TCPOptionTSLength            = 10

	// TCPMaxWindowScale is the largest shift used (RFC 7323 section 2.3).
	TCPMaxWindowScale = 14
)

// SACKBlock is one SACK block: [Start, End) in sequence space.
type SACKBlock struct {
	Start, End uint32
}

// TCPOptions holds the options gopasst reads from a segment.
type TCPOptions struct {
	MSS           uint16 // maximum segment size, bytes; valid if HasMSS
	HasMSS        bool
	WindowScale   uint8 // shift count, clamped to TCPMaxWindowScale; valid if HasWS
	HasWS         bool
	SACKPermitted bool
	HasTS         bool
	TSVal, TSEcr  uint32 // valid if HasTS
	SACK          [4]SACKBlock
	NumSACK       int // blocks used in SACK
}

// ParseTCPOptions parses an options area (TCP.Options()). It returns false
// if an option other than EOL/NOP lacks its length byte, has a length below
// 2, or runs past the end of b. A known option with the wrong length is
// ignored, as Linux's tcp_parse_options() does. It never panics and does
// not allocate.
func ParseTCPOptions(b []byte) (TCPOptions, bool) {
	var o TCPOptions
	for len(b) > 0 {
		kind := b[0]
		switch kind {
		case TCPOptionEOL:
			return o, true
		case TCPOptionNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 {
			return o, false
		}
		l := int(b[1])
		if l < 2 || l > len(b) {
			return o, false
		}
		v := b[2:l]
		switch kind {
		case TCPOptionMSS:
			if l == TCPOptionMSSLength {
				o.MSS = binary.BigEndian.Uint16(v)
				o.HasMSS = true
			}
		case TCPOptionWS:
			if l == TCPOptionWSLength {
				o.WindowScale = min(v[0], TCPMaxWindowScale)
				o.HasWS = true
			}
		case TCPOptionSACKPermitted:
			if l == TCPOptionSACKPermittedLength {
				o.SACKPermitted = true
			}
		case TCPOptionTS:
			if l == TCPOptionTSLength {
				o.TSVal = binary.BigEndian.Uint32(v)
				o.TSEcr = binary.BigEndian.Uint32(v[4:])
				o.HasTS = true
			}
		case TCPOptionSACK:
			if (l-2)%8 == 0 && l > 2 {
				o.NumSACK = 0
				for i := 0; i+8 <= len(v) && o.NumSACK < len(o.SACK); i += 8 {
					o.SACK[o.NumSACK] = SACKBlock{
						Start: binary.BigEndian.Uint32(v[i:]),
						End:   binary.BigEndian.Uint32(v[i+4:]),
					}
					o.NumSACK++
				}
			}
		}
		b = b[l:]
	}
	return o, true
}

// PutTCPOptionMSS writes an MSS option into b and returns its length (4).
func PutTCPOptionMSS(b []byte, mss uint16) int {
	_ = b[3]
	b[0], b[1] = TCPOptionMSS, TCPOptionMSSLength
	binary.BigEndian.PutUint16(b[2:], mss)
	return TCPOptionMSSLength
}

// PutTCPOptionWS writes a NOP and a window scale option into b and returns
// their length (4).
func PutTCPOptionWS(b []byte, shift uint8) int {
	_ = b[3]
	b[0], b[1], b[2], b[3] = TCPOptionNOP, TCPOptionWS, TCPOptionWSLength, shift
	return 4
}

// PutTCPOptionSACKPermitted writes two NOPs and SACK-permitted into b and
// returns their length (4).
func PutTCPOptionSACKPermitted(b []byte) int {
	_ = b[3]
	b[0], b[1], b[2], b[3] = TCPOptionNOP, TCPOptionNOP, TCPOptionSACKPermitted, TCPOptionSACKPermittedLength
	return 4
}

// PutTCPOptionTS writes two NOPs and a timestamp option into b and returns
// their length (12).
func PutTCPOptionTS(b []byte, val, ecr uint32) int {
	_ = b[11]
	b[0], b[1], b[2], b[3] = TCPOptionNOP, TCPOptionNOP, TCPOptionTS, TCPOptionTSLength
	binary.BigEndian.PutUint32(b[4:], val)
	binary.BigEndian.PutUint32(b[8:], ecr)
	return 12
}
