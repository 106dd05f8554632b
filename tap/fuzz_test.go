// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzStreamRead feeds arbitrary bytes, cut into two writes, to a Stream:
// it must never panic, every frame it returns must be framed exactly as
// the input says, and after an error it must return nothing more.
func FuzzStreamRead(f *testing.F) {
	f.Add(framed(frame(60, 1), frame(14, 2)), 3)
	f.Add(append(framed(frame(60, 1)), 0, 0, 0, 0), 64)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, 0)
	f.Add(framed(frame(1500, 7))[:700], 2)
	f.Fuzz(func(t *testing.T, in []byte, cut int) {
		if len(in) > 1<<18 {
			return
		}
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[1])
		s := NewStream(fds[0]).(*Stream)
		defer s.Close()
		unix.SetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
		if cut < 0 || cut > len(in) {
			cut = len(in) / 2
		}
		bufs, sizes := makeBufs(4, 2048)
		off := 0 // parse position in in, the reference framing
		check := func(n int) {
			for i := range n {
				if len(in)-off < 4 {
					t.Fatalf("frame %d returned beyond the input", i)
				}
				l := int(binary.BigEndian.Uint32(in[off:]))
				if l != sizes[i] || string(bufs[i][:l]) != string(in[off+4:off+4+l]) {
					t.Fatalf("frame at %d: got %d bytes, input says %d", off, sizes[i], l)
				}
				off += 4 + l
			}
		}
		var rerr error
		for _, part := range [][]byte{in[:cut], in[cut:]} {
			if len(part) > 0 {
				unix.Write(fds[1], part)
			}
			for range 1000 {
				n, err := s.ReadFrames(bufs, sizes)
				check(n)
				if err != nil {
					rerr = err
					break
				}
				if n == 0 {
					break
				}
			}
			if rerr != nil {
				break
			}
		}
		if rerr != nil {
			if n, err := s.ReadFrames(bufs, sizes); n != 0 || err != rerr {
				t.Fatalf("after %v: (%d, %v)", rerr, n, err)
			}
		}
	})
}

// FuzzSegmentHeader: whatever frame a handler gives WriteSegments, the
// virtio-net header is either refused (the frame is dropped and counted)
// or within the frame: checksum start and offset, header length; a GSO
// type only with a payload longer than the segment size. Finishing the
// checksum never reaches beyond the frame either.
func FuzzSegmentHeader(f *testing.F) {
	v4 := make([]byte, 54+100)
	binary.BigEndian.PutUint16(v4[12:], 0x0800)
	v4[14], v4[23], v4[46] = 0x45, 6, 0x50
	f.Add(v4, uint16(40))
	v6 := make([]byte, 74+3000)
	binary.BigEndian.PutUint16(v6[12:], 0x86dd)
	v6[14], v6[20], v6[66] = 0x60, 6, 0xf0
	f.Add(v6, uint16(1440))
	f.Add(v4[:53], uint16(1))
	f.Fuzz(func(t *testing.T, frame []byte, seg uint16) {
		var tun Tun
		if !tun.header(frame, seg) {
			if FinishSegment(frame) {
				t.Fatal("checksum finished on a frame the header refused")
			}
			return
		}
		h := VnetHdr(tun.hdr[:])
		if seg == 0 {
			if tun.hdr != [VnetHdrLen]byte{} {
				t.Fatalf("header %x for a complete frame", tun.hdr)
			}
			return
		}
		start, off, hl := int(h.CsumStart()), int(h.CsumOffset()), int(h.HdrLen())
		if start+off+2 > len(frame) || hl > len(frame) || hl < start+20 {
			t.Fatalf("header %x outside a %d-byte frame", tun.hdr, len(frame))
		}
		if gso := h.GSOType() != unix.VIRTIO_NET_HDR_GSO_NONE; gso != (len(frame)-hl > int(seg)) {
			t.Fatalf("GSO %v for %d bytes of payload in segments of %d", gso, len(frame)-hl, seg)
		}
		if !FinishSegment(frame) {
			t.Fatal("checksum not finished on a frame the header took")
		}
	})
}
