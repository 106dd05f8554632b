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
