// SPDX-License-Identifier: GPL-2.0-or-later

package frag

import (
	"encoding/binary"

	"gopasst/proto/l2"
)

// fragHdrSize is the size of an IPv6 fragment header.
const fragHdrSize = 8

// Fragmenter cuts one frame into fragments; see the package comment. The
// zero value is ready; Start begins a frame.
type Fragmenter struct {
	frame []byte // the whole frame being cut
	l3    int    // offset of the IP header
	hl    int    // IPv4 header length, or 40 for IPv6
	v6    bool
	nh    uint8  // IPv6: the upper-layer protocol
	id    uint32 // identification of every fragment
	chunk int    // data bytes per fragment but the last
	data  int    // offset of the payload in frame
	end   int    // end of the payload in frame
	off   int    // payload bytes already emitted
}

// Start prepares to cut frame (Ethernet header of 14 bytes, then IPv4 or
// IPv6) into fragments that fit mtu bytes of IP packet, with
// identification id. It reports false, and the frame must be sent as it
// is (or dropped), if it fits already, is not IP, is IPv4 with DF set or
// options, is IPv6 with extension headers, or the MTU is too small
// (below 68 for IPv4, 1280 for IPv6).
func (fr *Fragmenter) Start(frame []byte, mtu int, id uint32) bool {
	*fr = Fragmenter{}
	if len(frame) < l2.EthernetSize+l2.IPv4MinSize || len(frame)-l2.EthernetSize <= mtu {
		return false
	}
	l3 := l2.EthernetSize
	switch binary.BigEndian.Uint16(frame[12:]) {
	case l2.EtherTypeIPv4:
		ip := l2.IPv4(frame[l3:])
		tl := int(ip.TotalLength())
		if mtu < 68 || ip.Version() != 4 || ip.HeaderLength() != l2.IPv4MinSize || ip.DontFragment() ||
			ip.IsFragment() || tl > len(ip) || tl <= mtu {
			return false
		}
		*fr = Fragmenter{frame: frame, l3: l3, hl: l2.IPv4MinSize, id: id & 0xffff,
			chunk: (mtu - l2.IPv4MinSize) &^ 7, data: l3 + l2.IPv4MinSize, end: l3 + tl}
	case l2.EtherTypeIPv6:
		if len(frame) < l3+l2.IPv6MinSize {
			return false
		}
		ip := l2.IPv6(frame[l3:])
		end := l3 + l2.IPv6MinSize + int(ip.PayloadLength())
		switch ip.NextHeader() {
		case l2.ProtoHopByHop, l2.ProtoRouting, l2.ProtoDestOpts, l2.ProtoFragment, l2.ProtoAH:
			return false
		}
		if mtu < 1280 || ip.Version() != 6 || end > len(frame) || end-l3 <= mtu {
			return false
		}
		*fr = Fragmenter{frame: frame, l3: l3, hl: l2.IPv6MinSize, v6: true, nh: ip.NextHeader(), id: id,
			chunk: (mtu - l2.IPv6MinSize - fragHdrSize) &^ 7, data: l3 + l2.IPv6MinSize, end: end}
	default:
		return false
	}
	return true
}

// Size is the largest fragment frame Next writes, for sizing its buffer.
func (fr *Fragmenter) Size() int {
	n := fr.data + fr.chunk
	if fr.v6 {
		n += fragHdrSize
	}
	return n
}

// Next writes the next fragment frame into dst, which must hold Size()
// bytes, and returns its length and whether more fragments follow. It
// returns 0, false once the frame is done or if dst is too small.
func (fr *Fragmenter) Next(dst []byte) (n int, more bool) {
	left := fr.end - fr.data - fr.off
	if fr.frame == nil || left <= 0 || len(dst) < fr.Size() {
		return 0, false
	}
	size := min(left, fr.chunk)
	more = size < left
	n = copy(dst, fr.frame[:fr.data]) // Ethernet and IP headers
	if fr.v6 {
		ip := l2.IPv6(dst[fr.l3:])
		binary.BigEndian.PutUint16(ip[4:], uint16(fragHdrSize+size))
		ip[6] = l2.ProtoFragment
		h := dst[n : n+fragHdrSize]
		h[0], h[1] = fr.nh, 0
		fo := uint16(fr.off)
		if more {
			fo |= 1
		}
		binary.BigEndian.PutUint16(h[2:], fo)
		binary.BigEndian.PutUint32(h[4:], fr.id)
		n += fragHdrSize
	} else {
		ip := l2.IPv4(dst[fr.l3:])
		ip.SetTotalLength(uint16(fr.hl + size))
		ip.SetID(uint16(fr.id))
		var flags uint8
		if more {
			flags = l2.IPv4FlagMoreFragments
		}
		ip.SetFlagsFragmentOffset(flags, uint16(fr.off))
		ip.SetChecksum(0)
		ip.SetChecksum(ip.CalculateChecksum())
	}
	n += copy(dst[n:], fr.frame[fr.data+fr.off:fr.data+fr.off+size])
	fr.off += size
	if !more {
		fr.frame = nil
	}
	return n, more
}
