// SPDX-License-Identifier: GPL-2.0-or-later

package frag

import (
	"encoding/binary"
	"math/bits"

	"gopasst/proto/l2"
)

// Defaults for New.
const (
	// DefaultSlots is how many datagrams can be in reassembly at once.
	DefaultSlots = 16
	// DefaultTimeout is how long a datagram may take to complete, in
	// nanoseconds: Linux's net.ipv4.ipfrag_time.
	DefaultTimeout = 30e9
)

const (
	// maxData is the most IP payload a datagram carries: 65,535 bytes
	// minus the smallest IPv4 header; IPv6's payload length field also
	// stops at 65,535 (no jumbograms).
	maxData = 0xffff
	// hdrRoom is the room in front of the data for the Ethernet and
	// the largest IPv4 header.
	hdrRoom = l2.EthernetSize + 60
	blocks  = (maxData + 7) / 8
)

// Stats counts what the Reassembler did and dropped.
type Stats struct {
	Fragments   uint64 // fragments received
	Reassembled uint64 // datagrams completed
	Overlaps    uint64 // datagrams dropped: overlapping fragments
	Invalid     uint64 // fragments (or their datagram) dropped: bad length or offset, conflicting last fragment
	Unsupported uint64 // fragments dropped: an IPv6 fragment header not right after the fixed header
	Timeouts    uint64 // datagrams dropped: not complete in time
	Evicted     uint64 // datagrams dropped to make room for a new one
}

// key identifies the datagram a fragment belongs to.
type key struct {
	v6       bool
	proto    uint8 // IPv4's protocol; IPv6: 0 (the next header may differ per RFC 8200 only in error)
	id       uint32
	src, dst [16]byte
}

// slot is one datagram in reassembly.
type slot struct {
	used    bool
	k       key
	started int64 // arrival of the first fragment, ns
	hdr     int   // bytes of Ethernet and IP header saved in front of the data; 0 until offset 0 arrived
	total   int   // data length, -1 until the last fragment arrived
	have    int   // data bytes received (no overlaps, so no double counting)
	maxEnd  int   // end of the furthest fragment received
	ihl     int   // IP header length of the first fragment
	nh      uint8 // IPv6: next header of the fragment header of offset 0
	seen    [blocks/64 + 1]uint64
	buf     []byte // hdrRoom + maxData
}

// Reassembler puts the guest's fragmented datagrams back together; see
// the package comment. Not safe for concurrent use.
type Reassembler struct {
	slots   []slot
	timeout int64
	Stats   Stats
}

// New returns a reassembler with n slots (DefaultSlots if n <= 0) and a
// timeout in nanoseconds (DefaultTimeout if <= 0). It allocates every
// buffer now: about n x 64 KiB.
func New(n int, timeout int64) *Reassembler {
	if n <= 0 {
		n = DefaultSlots
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r := &Reassembler{slots: make([]slot, n), timeout: timeout}
	mem := make([]byte, n*(hdrRoom+maxData))
	for i := range r.slots {
		r.slots[i].buf = mem[i*(hdrRoom+maxData) : (i+1)*(hdrRoom+maxData)]
	}
	return r
}

// Pending returns the number of datagrams in reassembly.
func (r *Reassembler) Pending() int {
	n := 0
	for i := range r.slots {
		if r.slots[i].used {
			n++
		}
	}
	return n
}

// Add takes a fragment, a frame that l2.Frame.Parse accepted with
// IsFragment set. It returns the reassembled frame once the datagram is
// complete (valid until the next call to Add), else nil; ok is false when
// the fragment was dropped (counted in Stats).
func (r *Reassembler) Add(f *l2.Frame, now int64) (whole []byte, ok bool) {
	r.Stats.Fragments++
	r.expire(now)
	var k key
	var off, hl int
	var more bool
	var data []byte
	var nh uint8
	switch f.EtherType {
	case l2.EtherTypeIPv4:
		ip := l2.IPv4(f.Raw[f.L3:])
		hl = ip.HeaderLength()
		k = key{proto: ip.Protocol(), id: uint32(ip.ID())}
		off, more = int(ip.FragmentOffset()), ip.MoreFragments()
		data = f.Raw[f.L3+hl : f.End]
	case l2.EtherTypeIPv6:
		ip := l2.IPv6(f.Raw[f.L3:])
		if ip.NextHeader() != l2.ProtoFragment || f.End-f.L3 < l2.IPv6MinSize+fragHdrSize {
			r.Stats.Unsupported++
			return nil, false
		}
		fh := f.Raw[f.L3+l2.IPv6MinSize:]
		fo := binary.BigEndian.Uint16(fh[2:])
		k = key{v6: true, id: binary.BigEndian.Uint32(fh[4:])}
		off, more, nh = int(fo&^7), fo&1 != 0, fh[0]
		hl = l2.IPv6MinSize
		data = f.Raw[f.L3+l2.IPv6MinSize+fragHdrSize : f.End]
	default:
		r.Stats.Invalid++
		return nil, false
	}
	if f.L3+hl > hdrRoom {
		r.Stats.Unsupported++ // VLAN tags: the engine drops those before
		return nil, false
	}
	k.src, k.dst = f.Src.As16(), f.Dst.As16()
	end := off + len(data)
	if (more && len(data)%8 != 0) || len(data) == 0 || end > maxData || (!k.v6 && hl+end > maxData) {
		r.Stats.Invalid++
		return nil, false
	}
	s := r.find(&k, now)
	switch {
	case s.total >= 0 && end > s.total, !more && s.total >= 0 && end != s.total, !more && end < s.maxEnd:
		r.Stats.Invalid++
		s.used = false
		return nil, false
	case s.overlaps(off, end):
		r.Stats.Overlaps++
		s.used = false
		return nil, false
	}
	s.mark(off, end)
	copy(s.buf[hdrRoom+off:], data)
	s.have += len(data)
	s.maxEnd = max(s.maxEnd, end)
	if !more {
		s.total = end
	}
	if off == 0 {
		// The first fragment's headers go in front of the data.
		h := f.L3 + hl
		s.hdr = copy(s.buf[hdrRoom-h:hdrRoom], f.Raw[:h])
		s.ihl, s.nh = hl, nh
	}
	if s.total < 0 || s.have != s.total || s.hdr == 0 {
		return nil, true
	}
	s.used = false
	r.Stats.Reassembled++
	out := s.buf[hdrRoom-s.hdr : hdrRoom+s.total]
	hl = s.ihl
	l3 := s.hdr - hl
	if k.v6 {
		ip := l2.IPv6(out[l3:])
		binary.BigEndian.PutUint16(ip[4:], uint16(s.total))
		ip[6] = s.nh
	} else {
		ip := l2.IPv4(out[l3:])
		ip.SetTotalLength(uint16(hl + s.total))
		ip.SetFlagsFragmentOffset(ip.Flags()&^l2.IPv4FlagMoreFragments, 0)
		ip.SetChecksum(0)
		ip.SetChecksum(ip.CalculateChecksum())
	}
	return out, true
}

// find returns the slot of datagram k, claiming a free one (or the
// oldest) for a new datagram.
func (r *Reassembler) find(k *key, now int64) *slot {
	free, oldest := -1, -1
	for i := range r.slots {
		s := &r.slots[i]
		if !s.used {
			if free < 0 {
				free = i
			}
			continue
		}
		if s.k == *k {
			return s
		}
		if oldest < 0 || s.started < r.slots[oldest].started {
			oldest = i
		}
	}
	if free < 0 {
		free = oldest
		r.Stats.Evicted++
	}
	s := &r.slots[free]
	s.used, s.k, s.started, s.hdr, s.total, s.have, s.maxEnd, s.nh = true, *k, now, 0, -1, 0, 0, 0
	clear(s.seen[:])
	return s
}

// expire frees the slots of datagrams older than the timeout.
func (r *Reassembler) expire(now int64) {
	for i := range r.slots {
		s := &r.slots[i]
		if s.used && now-s.started > r.timeout {
			s.used = false
			r.Stats.Timeouts++
		}
	}
}

// overlaps reports whether any 8-byte block of [off, end) was received.
func (s *slot) overlaps(off, end int) bool {
	for b := off / 8; b < (end+7)/8; {
		w, bit := b/64, uint(b%64)
		m := s.seen[w] >> bit
		if m != 0 {
			// The first received block at or after b.
			if b+bits.TrailingZeros64(m) < (end+7)/8 {
				return true
			}
			return false
		}
		b += 64 - int(bit)
	}
	return false
}

// mark records the blocks of [off, end) as received.
func (s *slot) mark(off, end int) {
	for b := off / 8; b < (end+7)/8; b++ {
		s.seen[b/64] |= 1 << uint(b%64)
	}
}
