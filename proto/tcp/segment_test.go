// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"gopasst/proto/l2"
	"gopasst/tap"
)

// segTap is a flushable tap whose device takes segments (flow.Segmenter),
// as the engine's on pasta's tap with offloads. It records, for each
// frame, the MSS it came with (0 from Send), and finishes the partial
// checksum of segment frames in its copy, as the guest's kernel would
// for each segment, so that the tests' parser checks it.
type segTap struct {
	*flushTap
	mss        []uint16
	unfinished int // segment frames whose checksum could not be finished
}

func (s *segTap) MaxSegment() int { return 0xffff }

func (s *segTap) Send(frames [][]byte) {
	for range frames {
		if !s.Discard {
			s.mss = append(s.mss, 0)
		}
	}
	s.flushTap.Send(frames)
}

func (s *segTap) SendSegments(frames [][]byte, mss uint16) {
	n := len(s.Frames)
	s.flushTap.Send(frames)
	if s.Discard {
		return
	}
	for _, f := range s.Frames[n:] {
		s.mss = append(s.mss, mss)
		if !tap.FinishSegment(f) {
			s.unfinished++
		}
	}
}

// TestSegmentsToTap: with a tap that takes segments, at MTU 1500, data
// from the host goes to the guest in frames of up to 64 KiB of whole
// 1460-byte segments (the guest's MSS), sent with SendSegments and that
// MSS, with a pseudo-header checksum that finishes to a correct one; the
// bytes arrive in order. Control frames keep Send and full checksums.
func TestSegmentsToTap(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		e := newEnvTapSeg(t, 4, 1500, false, true)
		loop, src, dst := "127.0.0.1", netip.AddrPortFrom(guest4, 40030), gw4
		if v6 {
			loop, src, dst = "::1", netip.AddrPortFrom(guest6, 40030), gw6
		}
		ln, port := hostListener(t, loop)
		g := e.connect(src, netip.AddrPortFrom(dst, port))
		srv := accept(t, ln)
		g.wnd = 0xffff // scaled by 7: 8 MiB
		g.send(l2.TCPFlagAck, nil)
		e.take()
		e.seg.mss = nil

		const size = 1 << 20
		e.roomForBulk(srv)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		if _, err := srv.Write(data); err != nil {
			t.Fatal(err)
		}
		var got []byte
		large := 0
		base := g.ack
		deadline := time.Now().Add(3 * time.Second)
		for len(got) < size && time.Now().Before(deadline) {
			e.poll(10)
			frames := e.take()
			mss := e.seg.mss
			e.seg.mss = nil
			had := len(got)
			for i, b := range frames {
				s := e.parse(b) // checks the finished checksum
				if len(s.payload) == 0 {
					continue
				}
				if want := uint16(1460 - 20*btoi(v6)); mss[i] != want {
					t.Fatalf("v6 %v: data frame sent with MSS %d, want %d", v6, mss[i], want)
				}
				if len(s.payload) > int(mss[i]) {
					large++
					if len(s.payload)%int(mss[i]) != 0 && len(got)+len(s.payload) != size {
						t.Fatalf("v6 %v: %d bytes: not whole segments of %d", v6, len(s.payload), mss[i])
					}
				}
				if len(b)-l2.EthernetSize > 0xffff {
					t.Fatalf("v6 %v: frame of %d bytes", v6, len(b))
				}
				if s.seq != base+uint32(len(got)) {
					t.Fatalf("v6 %v: seq %d, want %d", v6, s.seq, base+uint32(len(got)))
				}
				got = append(got, s.payload...)
			}
			if len(got) > had {
				// Acknowledge everything: the window stays open.
				g.ack = base + uint32(len(got))
				g.send(l2.TCPFlagAck, nil)
			}
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("v6 %v: %d bytes of %d arrived, or out of order", v6, len(got), size)
		}
		if large < size/65536 || e.seg.unfinished != 0 {
			t.Fatalf("v6 %v: %d frames larger than the MSS, %d unfinished checksums", v6, large, e.seg.unfinished)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAllocsSockToTapSegments: the segment path allocates nothing.
func TestAllocsSockToTapSegments(t *testing.T) {
	b := newBulkSeg(t)
	data := make([]byte, 256<<10)
	before := b.e.tap.Count
	if n := testing.AllocsPerRun(50, func() { b.sockToTap(data) }); n != 0 {
		t.Fatalf("%v allocations per socket read", n)
	}
	if sent := b.e.tap.Count - before; sent > 51*6 {
		t.Fatalf("%d frames for 51 reads of 256 KiB: not segments", sent)
	}
}

// BenchmarkSockToTap1500Segments is BenchmarkSockToTap1500 with a tap
// that takes segments: 256 KiB per read in 64 KiB frames, no checksum
// over the payload.
func BenchmarkSockToTap1500Segments(bm *testing.B) {
	b := newBulkSeg(bm)
	data := make([]byte, 256<<10)
	bm.SetBytes(int64(len(data)))
	bm.ReportAllocs()
	for bm.Loop() {
		b.sockToTap(data)
	}
}
