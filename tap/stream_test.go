// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketpair returns a Stream on one end of a UNIX stream socketpair and
// the raw fd of the other end (the "qemu" side, blocking).
func socketpair(t *testing.T) (*Stream, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStream(fds[0]).(*Stream)
	t.Cleanup(func() { s.Close(); unix.Close(fds[1]) })
	return s, fds[1]
}

func frame(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

func framed(frames ...[]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

func lengthOnly(l uint32) []byte { return binary.BigEndian.AppendUint32(nil, l) }

func writeAll(t *testing.T, fd int, b []byte) {
	t.Helper()
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
}

func makeBufs(n, size int) ([][]byte, []int) {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	return bufs, make([]int, n)
}

func TestStreamRead(t *testing.T) {
	f1, f2, f3 := frame(60, 1), frame(1500, 2), frame(MaxStreamFrame, 3)
	tests := []struct {
		name    string
		chunks  [][]byte // written by the peer, one read(2) each as far as possible
		closeIt bool     // peer closes after writing
		nbufs   int
		bufSize int
		want    [][]byte // frames expected, over calls until (0, nil) or an error
		wantErr error
	}{
		{name: "empty socket", nbufs: 4, bufSize: 2048},
		{name: "one frame", chunks: [][]byte{framed(f1)}, nbufs: 4, bufSize: 2048, want: [][]byte{f1}},
		{name: "three in one write", chunks: [][]byte{framed(f1, f2, f1)}, nbufs: 4, bufSize: 2048, want: [][]byte{f1, f2, f1}},
		{name: "more frames than buffers", chunks: [][]byte{framed(f1, f1, f1, f2, f2)}, nbufs: 2, bufSize: 2048, want: [][]byte{f1, f1, f1, f2, f2}},
		{name: "header split", chunks: [][]byte{framed(f2)[:2], framed(f2)[2:]}, nbufs: 4, bufSize: 2048, want: [][]byte{f2}},
		{name: "frame split", chunks: [][]byte{framed(f2)[:700], framed(f2)[700:]}, nbufs: 4, bufSize: 2048, want: [][]byte{f2}},
		{name: "split after a whole frame", chunks: [][]byte{framed(f1, f2)[:100], framed(f1, f2)[100:]}, nbufs: 4, bufSize: 2048, want: [][]byte{f1, f2}},
		{name: "maximum frame", chunks: [][]byte{framed(f3)}, nbufs: 1, bufSize: 65536, want: [][]byte{f3}},
		{name: "short frame passed up", chunks: [][]byte{framed(frame(5, 9))}, nbufs: 1, bufSize: 2048, want: [][]byte{frame(5, 9)}},
		{name: "zero length", chunks: [][]byte{framed(f1), lengthOnly(0)}, nbufs: 4, bufSize: 2048, want: [][]byte{f1}, wantErr: ErrZeroLength},
		{name: "length above 65535", chunks: [][]byte{lengthOnly(65536)}, nbufs: 4, bufSize: 1 << 17, wantErr: ErrFrameTooLong},
		{name: "length 0xffffffff", chunks: [][]byte{lengthOnly(0xffffffff)}, nbufs: 4, bufSize: 1 << 17, wantErr: ErrFrameTooLong},
		{name: "length above buffer", chunks: [][]byte{framed(f1, f2)}, nbufs: 4, bufSize: 1000, want: [][]byte{f1}, wantErr: ErrFrameTooLong},
		{name: "eof after frames", chunks: [][]byte{framed(f1, f2)}, closeIt: true, nbufs: 4, bufSize: 2048, want: [][]byte{f1, f2}, wantErr: ErrClosed},
		{name: "eof in a frame", chunks: [][]byte{framed(f2)[:300]}, closeIt: true, nbufs: 4, bufSize: 2048, wantErr: ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, peer := socketpair(t)
			bufs, sizes := makeBufs(tc.nbufs, tc.bufSize)
			var got [][]byte
			var err error
			read := func() int {
				var n int
				n, err = s.ReadFrames(bufs, sizes)
				for i := range n {
					got = append(got, bytes.Clone(bufs[i][:sizes[i]]))
				}
				return n
			}
			for _, c := range tc.chunks {
				writeAll(t, peer, c)
				read() // may see only part of the stream
				if err != nil {
					break
				}
			}
			if tc.closeIt {
				unix.Close(peer)
			}
			for i := 0; err == nil && i < 100; i++ {
				if read() == 0 && err == nil {
					break
				}
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d frames, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Fatalf("frame %d: got %d bytes %x..., want %d bytes", i, len(got[i]), got[i][:min(8, len(got[i]))], len(tc.want[i]))
				}
			}
			if tc.wantErr != nil {
				// Errors are sticky: the framing is lost for good.
				if n, err2 := s.ReadFrames(bufs, sizes); n != 0 || err2 != tc.wantErr {
					t.Fatalf("second read = (%d, %v), want (0, %v)", n, err2, tc.wantErr)
				}
			}
		})
	}
}

// readStream parses everything readable from fd (blocking until want
// frames are seen or the deadline passes).
func readStream(t *testing.T, fd int, want int) [][]byte {
	t.Helper()
	var buf []byte
	var frames [][]byte
	tmp := make([]byte, 1<<16)
	deadline := time.Now().Add(5 * time.Second)
	for len(frames) < want && time.Now().Before(deadline) {
		n, err := unix.Read(fd, tmp)
		if err == unix.EAGAIN {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("peer read: %d, %v", n, err)
		}
		buf = append(buf, tmp[:n]...)
		for len(buf) >= 4 {
			l := int(binary.BigEndian.Uint32(buf))
			if len(buf) < 4+l {
				break
			}
			frames = append(frames, bytes.Clone(buf[4:4+l]))
			buf = buf[4+l:]
		}
	}
	if len(buf) != 0 {
		t.Fatalf("%d stray bytes after %d frames", len(buf), len(frames))
	}
	return frames
}

func TestStreamWrite(t *testing.T) {
	tests := []struct {
		name   string
		frames [][]byte
		want   int // frames reported written
	}{
		{"one", [][]byte{frame(60, 1)}, 1},
		{"batch", [][]byte{frame(60, 1), frame(1514, 2), frame(42, 3)}, 3},
		{"more than a sendmsg batch", func() [][]byte {
			var fs [][]byte
			for i := range maxWriteBatch + 10 {
				fs = append(fs, frame(60, byte(i)))
			}
			return fs
		}(), maxWriteBatch + 10},
		{"empty frame skipped", [][]byte{frame(60, 1), {}, frame(60, 2)}, 3},
		{"too long skipped", [][]byte{frame(MaxStreamFrame+1, 1), frame(60, 2)}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, peer := socketpair(t)
			// Room for everything: no short writes in this test.
			if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20); err != nil {
				t.Fatal(err)
			}
			n, err := s.WriteFrames(tc.frames)
			if err != nil || n != tc.want {
				t.Fatalf("WriteFrames = (%d, %v), want (%d, nil)", n, err, tc.want)
			}
			var sent [][]byte
			for _, f := range tc.frames {
				if len(f) > 0 && len(f) <= MaxStreamFrame {
					sent = append(sent, f)
				}
			}
			got := readStream(t, peer, len(sent))
			if len(got) != len(sent) {
				t.Fatalf("peer got %d frames, want %d", len(got), len(sent))
			}
			for i := range got {
				if !bytes.Equal(got[i], sent[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
			if d := s.Dropped(); d != uint64(len(tc.frames)-len(sent)) {
				t.Fatalf("Dropped = %d, want %d", d, len(tc.frames)-len(sent))
			}
		})
	}
}

// TestStreamPartialWrite fills a small socket buffer so that sendmsg takes
// part of a frame, and finishes tails with Flush as the engine does on
// EPOLLOUT, while a reader drains the peer: the peer must see exactly the
// frames WriteFrames reported written, in order, with the framing intact.
func TestStreamPartialWrite(t *testing.T) {
	s, peer := socketpair(t)
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	type result struct {
		frames [][]byte
		err    error
	}
	done, exited := make(chan result, 1), make(chan struct{})
	// However the test ends, the reader ends before socketpair's cleanup
	// closes its fd: a reader left blocked on a closed fd number would
	// read whatever socket the next test gets under that number.
	t.Cleanup(func() {
		unix.Shutdown(s.fd, unix.SHUT_RDWR)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Error("reader did not end")
		}
	})
	go func() { // the "qemu" side: read until EOF, then parse
		defer close(exited)
		var all []byte
		buf := make([]byte, 3000)
		for {
			n, err := unix.Read(peer, buf)
			if n <= 0 {
				if err != nil && err != unix.EINTR {
					done <- result{err: err}
					return
				}
				if n == 0 {
					break
				}
				continue
			}
			all = append(all, buf[:n]...)
			time.Sleep(50 * time.Microsecond) // a slow peer
		}
		var r result
		for len(all) >= 4 {
			l := int(binary.BigEndian.Uint32(all))
			if len(all) < 4+l {
				break
			}
			r.frames = append(r.frames, all[4:4+l])
			all = all[4+l:]
		}
		if len(all) != 0 {
			r.err = errors.New("stray bytes at the end of the stream")
		}
		done <- r
	}()

	var written [][]byte
	deadline := time.Now().Add(5 * time.Second)
	for round := 0; round < 200 && time.Now().Before(deadline); round++ {
		batch := [][]byte{frame(3000, byte(round)), frame(7001, byte(round+1)), frame(60, byte(round+2))}
		n, err := s.WriteFrames(batch)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		written = append(written, batch[:n]...)
		if s.Pending() {
			// With a tail pending, WriteFrames first finishes it and
			// writes frames only if that succeeds (the reader may have
			// drained the socket meanwhile): the peer's stream, checked
			// at the end, shows whether the framing held.
			n2, err := s.WriteFrames(batch)
			if err != nil {
				t.Fatalf("round %d, tail pending: %v", round, err)
			}
			written = append(written, batch[:n2]...)
		}
		for s.Pending() && time.Now().Before(deadline) {
			pfd := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
			unix.Poll(pfd, 100)
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.Pending() {
		t.Fatal("tail never flushed")
	}
	if s.PartialWrites() == 0 {
		t.Fatal("no partial write happened: the test did not exercise the tail")
	}
	unix.Shutdown(s.fd, unix.SHUT_WR)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.frames) != len(written) {
		t.Fatalf("peer got %d frames, WriteFrames reported %d", len(r.frames), len(written))
	}
	for i := range written {
		if !bytes.Equal(r.frames[i], written[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
	t.Logf("%d frames, %d partial writes", len(written), s.PartialWrites())
}

func TestStreamPeerGone(t *testing.T) {
	s, peer := socketpair(t)
	unix.Close(peer)
	n, err := s.WriteFrames([][]byte{frame(60, 1)})
	if n != 0 || err != ErrClosed {
		t.Fatalf("WriteFrames to a closed peer = (%d, %v), want (0, ErrClosed)", n, err)
	}
}

func TestStreamAllocs(t *testing.T) {
	s, peer := socketpair(t)
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20); err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(peer, true)
	bufs, sizes := makeBufs(8, 2048)
	out := [][]byte{frame(60, 1), frame(1514, 2), frame(90, 3)}
	in := framed(frame(60, 1), frame(1514, 2))
	drain := make([]byte, 1<<16)
	allocs := testing.AllocsPerRun(1000, func() {
		if n, err := s.WriteFrames(out); n != 3 || err != nil {
			t.Fatalf("WriteFrames = %d, %v", n, err)
		}
		unix.Read(peer, drain)
		unix.Write(peer, in)
		if n, err := s.ReadFrames(bufs, sizes); n != 2 || err != nil {
			t.Fatalf("ReadFrames = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per write+read, want 0", allocs)
	}
}

func BenchmarkStreamWriteRead(b *testing.B) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	s := NewStream(fds[0]).(*Stream)
	defer s.Close()
	peer := NewStream(fds[1]).(*Stream)
	defer peer.Close()
	bufs, sizes := makeBufs(32, 65536)
	out := make([][]byte, 32)
	for i := range out {
		out[i] = frame(1514, byte(i))
	}
	b.ReportAllocs()
	b.SetBytes(32 * 1514)
	for b.Loop() {
		n, err := s.WriteFrames(out)
		if n != 32 || err != nil {
			b.Fatal(n, err)
		}
		for got := 0; got < 32; {
			m, err := peer.ReadFrames(bufs, sizes)
			if err != nil {
				b.Fatal(err)
			}
			got += m
		}
	}
}
