// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "encoding/binary"

// TCPTemplate is a prebuilt Ethernet, IP and TCP header for one connection
// and direction, after passt's per-connection frame templates: Init fills
// everything that is constant (addresses, ports, TTL, the IPv4 header sum,
// the pseudo-header address sum), and Write stamps a segment into a frame
// buffer, patching only sequence, acknowledgment, flags, window, lengths
// and checksums.
//
// Intended use: read socket data straight into buf[HeaderLen():], then call
// Write(buf, ...) to put the headers in front of it. A TCPTemplate is a
// value with no pointers; keep one per connection. Not safe for concurrent
// use.
type TCPTemplate struct {
	hdr    [TCP6HeaderSize]byte
	hlen   int    // Ethernet + IP + 20-byte TCP header
	v6     bool   //
	ipSum  uint32 // IPv4: header sum with total length and checksum zero
	pseudo uint32 // pseudo-header sum without the length
}

// Init builds the template from s: Link, Src and Dst (both IPv4 or both
// IPv6). Seq, Ack, Flags, Window, Options and Payload are ignored. It
// returns false if the address families differ.
func (t *TCPTemplate) Init(s *TCPSegment) bool {
	src, dst := s.Src.Addr(), s.Dst.Addr()
	*t = TCPTemplate{}
	switch {
	case addrFamilyOK(src, dst, false):
		t.hlen = TCP4HeaderSize
		Ethernet(t.hdr[:]).Encode(s.DstMAC, s.SrcMAC, EtherTypeIPv4)
		putIPv4(t.hdr[EthernetSize:], &s.Link, src, dst, ProtoTCP, 0)
		ip := IPv4(t.hdr[EthernetSize:])
		ip.SetChecksum(0)
		t.ipSum = Checksum(ip[:IPv4MinSize], 0)
	case addrFamilyOK(src, dst, true):
		t.v6 = true
		t.hlen = TCP6HeaderSize
		Ethernet(t.hdr[:]).Encode(s.DstMAC, s.SrcMAC, EtherTypeIPv6)
		putIPv6(t.hdr[EthernetSize:], &s.Link, src, dst, ProtoTCP, 0)
	default:
		return false
	}
	t.pseudo = PseudoHeaderSum(src, dst, ProtoTCP, 0)
	tcp := TCP(t.hdr[t.hlen-TCPMinSize : t.hlen])
	tcp.Encode(&TCPFields{SrcPort: s.Src.Port(), DstPort: s.Dst.Port()})
	return true
}

// HeaderLen returns the length of the headers Write puts before the
// options: where the payload goes for a segment without options.
func (t *TCPTemplate) HeaderLen() int { return t.hlen }

// IsIPv6 reports whether the template is for IPv6.
func (t *TCPTemplate) IsIPv6() bool { return t.v6 }

// Write writes a frame into b: the template headers, then opts (padded
// with EOL to a multiple of 4, at most 40 bytes), then payloadLen bytes of
// payload that the caller has already placed at b[HeaderLen()+padded
// len(opts):]. It sets the lengths and both checksums and returns the frame
// length, or 0 if the frame does not fit in b or the options are too long.
// It does not allocate.
func (t *TCPTemplate) Write(b []byte, seq, ack uint32, flags TCPFlags, window uint16, opts []byte, payloadLen int) int {
	return t.write(b, seq, ack, flags, window, opts, payloadLen, sumAll)
}

// WritePartial is Write for a device with checksum offload (a tap with a
// virtio-net header, NEEDS_CSUM): the TCP checksum field gets only the
// pseudo-header sum over the whole TCP length, folded and not inverted,
// as Linux leaves it for CHECKSUM_PARTIAL; the payload is not summed.
// The IPv4 header checksum is complete.
func (t *TCPTemplate) WritePartial(b []byte, seq, ack uint32, flags TCPFlags, window uint16, opts []byte, payloadLen int) int {
	return t.write(b, seq, ack, flags, window, opts, payloadLen, sumPseudo)
}

// WriteHeaders is WritePartial for a payload that is not in b (it is in
// the guest's receive buffers, see flow.Lender): it writes only the
// HeaderLen() bytes of headers into b, for a segment of payloadLen bytes
// that it never reads, and returns HeaderLen(), or 0 if b is too short.
func (t *TCPTemplate) WriteHeaders(b []byte, seq, ack uint32, flags TCPFlags, window uint16, payloadLen int) int {
	if t.write(b, seq, ack, flags, window, nil, payloadLen, sumHeaders) == 0 {
		return 0
	}
	return t.hlen
}

// What write sums and where the payload is.
const (
	sumAll     = iota // the payload is in b: complete checksum
	sumPseudo         // the payload is in b: the pseudo-header sum only
	sumHeaders        // b holds the headers only: the pseudo-header sum only
)

func (t *TCPTemplate) write(b []byte, seq, ack uint32, flags TCPFlags, window uint16, opts []byte, payloadLen int, mode int) int {
	if len(opts) > TCPMaxSize-TCPMinSize || payloadLen < 0 {
		return 0
	}
	ol := (len(opts) + 3) &^ 3
	n := t.hlen + ol + payloadLen
	end := n // what of the frame is in b
	if mode == sumHeaders {
		end = t.hlen + ol
	}
	if t.hlen == 0 || end > len(b) || n-EthernetSize > 0xffff {
		return 0
	}
	copy(b[:t.hlen], t.hdr[:t.hlen])
	l4 := t.hlen - TCPMinSize
	tl := n - l4
	if t.v6 {
		IPv6(b[EthernetSize:]).SetPayloadLength(uint16(tl))
	} else {
		ip := IPv4(b[EthernetSize:])
		il := uint16(n - EthernetSize)
		ip.SetTotalLength(il)
		ip.SetChecksum(Fold(t.ipSum + uint32(il)))
	}
	tcp := TCP(b[l4 : t.hlen+ol])
	binary.BigEndian.PutUint32(tcp[tcpSeqNumOffset:], seq)
	binary.BigEndian.PutUint32(tcp[tcpAckNumOffset:], ack)
	tcp[tcpDataOffOffset] = uint8((TCPMinSize+ol)/4) << 4
	tcp[tcpFlagsOffset] = uint8(flags)
	binary.BigEndian.PutUint16(tcp[tcpWindowOffset:], window)
	c := copy(tcp[TCPMinSize:], opts)
	clear(tcp[TCPMinSize+c : TCPMinSize+ol])
	// The checksum field is zero in the template.
	s := t.pseudo + uint32(tl>>16) + uint32(tl&0xffff)
	if mode != sumAll {
		tcp.SetChecksum(fold16(s))
	} else {
		tcp.SetChecksum(Fold(Checksum(b[l4:n], s)))
	}
	return n
}
