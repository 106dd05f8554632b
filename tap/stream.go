// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Stream sizes.
const (
	// streamRxSize is the reassembly buffer: room for many small frames per
	// read(2), and always for one whole maximum frame with its header.
	streamRxSize = 256<<10 + StreamHeaderSize + MaxStreamFrame
	// maxWriteBatch is the number of frames per sendmsg(2): two iovecs
	// each (length, frame) within IOV_MAX (1024).
	maxWriteBatch = 512
)

// Stream is a qemu "-netdev stream" (or "-net socket") connection: each
// frame travels behind a 4-byte big-endian length. Mirrors
// tap_handler_passt() and tap_send_frames_passt() in passt tap.c.
//
// Reads go into a reassembly buffer, so a frame split across reads is
// joined; complete frames are copied into the caller's buffers. A length of
// zero, or above MaxStreamFrame, or above the caller's buffer, cannot be
// resynchronised: ReadFrames returns ErrZeroLength or ErrFrameTooLong, and
// keeps returning it. Unlike passt, lengths of 1 to 13 (shorter than an
// Ethernet header) are passed up; the engine drops and counts them.
//
// Writes batch many length+frame pairs into one sendmsg(2). If the socket
// takes only part of a frame, the rest of that frame is copied aside and
// must be finished (Flush, on EPOLLOUT) before anything else is written, or
// the peer would lose the framing. See Backlogger.
type Stream struct {
	fd  int
	err error // sticky framing or peer error

	rx           []byte // reassembly buffer, streamRxSize bytes
	rxStart      int    // first byte not yet handed out
	rxEnd        int    // end of the bytes read
	readSyscalls uint64

	hdrs [maxWriteBatch][StreamHeaderSize]byte // length prefixes of a batch
	iov  [2 * maxWriteBatch]unix.Iovec
	msg  unix.Msghdr

	tail     []byte // unwritten rest of a partially written frame (cap header+max frame)
	tailOff  int    // first byte of tail not yet written
	dropped  uint64 // frames WriteFrames skipped as unframeable (empty or too long)
	partials uint64 // partial writes whose tail was kept
}

// NewStream wraps fd, a connected stream socket to qemu (or any peer that
// speaks the same framing). It sets O_NONBLOCK. The Device takes ownership
// of fd.
func NewStream(fd int) Device {
	_ = unix.SetNonblock(fd, true)
	return &Stream{
		fd:   fd,
		rx:   make([]byte, streamRxSize),
		tail: make([]byte, 0, StreamHeaderSize+MaxStreamFrame),
	}
}

// Fd returns the socket.
func (s *Stream) Fd() int { return s.fd }

// ReadFrames copies up to len(bufs) complete frames out of the stream. It
// calls read(2) only when the reassembly buffer holds no complete frame,
// and stops after a read that did not fill the buffer (the socket is then
// very likely empty; epoll is level-triggered and reports anything left).
func (s *Stream) ReadFrames(bufs [][]byte, sizes []int) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	drained := false
	for n < len(bufs) && n < len(sizes) {
		avail := s.rxEnd - s.rxStart
		if avail >= StreamHeaderSize {
			l := int(binary.BigEndian.Uint32(s.rx[s.rxStart:]))
			switch {
			case l == 0:
				s.err = ErrZeroLength
				return n, s.err
			case l > MaxStreamFrame || l > len(bufs[n]):
				s.err = ErrFrameTooLong
				return n, s.err
			}
			if avail >= StreamHeaderSize+l {
				p := s.rxStart + StreamHeaderSize
				sizes[n] = copy(bufs[n], s.rx[p:p+l])
				n++
				s.rxStart = p + l
				continue
			}
		}
		if drained {
			break
		}
		// Need more bytes: compact, then read.
		if s.rxStart == s.rxEnd {
			s.rxStart, s.rxEnd = 0, 0
		} else if s.rxStart > 0 {
			s.rxEnd = copy(s.rx, s.rx[s.rxStart:s.rxEnd])
			s.rxStart = 0
		}
		space := len(s.rx) - s.rxEnd
		r, errno := read(s.fd, s.rx[s.rxEnd:])
		s.readSyscalls++
		switch errno {
		case 0:
		case unix.EAGAIN:
			return n, nil
		case unix.ECONNRESET, unix.EPIPE, unix.EBADF, unix.ENOTCONN:
			s.err = ErrClosed
			return n, s.err
		default:
			return n, errno
		}
		if r == 0 {
			s.err = ErrClosed
			return n, s.err
		}
		s.rxEnd += r
		drained = r < space
	}
	return n, nil
}

// WriteFrames writes frames, up to maxWriteBatch per sendmsg(2). It
// returns the number of frames handed to the socket, a partially written
// one included (its tail is kept and sent first by Flush or the next
// WriteFrames). With a tail still pending it writes nothing and returns 0.
// Frames that cannot be framed (empty, longer than MaxStreamFrame) are
// skipped and counted as written; see Dropped.
func (s *Stream) WriteFrames(frames [][]byte) (int, error) {
	if s.err == ErrClosed {
		return 0, s.err
	}
	if s.Pending() {
		if err := s.Flush(); err != nil || s.Pending() {
			return 0, err
		}
	}
	n := 0
	for n < len(frames) {
		k, total := 0, 0
		for n+k < len(frames) && k < maxWriteBatch {
			f := frames[n+k]
			if len(f) == 0 || len(f) > MaxStreamFrame {
				break
			}
			binary.BigEndian.PutUint32(s.hdrs[k][:], uint32(len(f)))
			s.iov[2*k].Base = &s.hdrs[k][0]
			s.iov[2*k].SetLen(StreamHeaderSize)
			s.iov[2*k+1].Base = &f[0]
			s.iov[2*k+1].SetLen(len(f))
			total += StreamHeaderSize + len(f)
			k++
		}
		if k == 0 { // frames[n] cannot be framed: skip it
			s.dropped++
			n++
			continue
		}
		r, err := s.send(2 * k)
		if err != nil {
			return n, err
		}
		if r == total {
			n += k
			continue
		}
		// Short write: find the frame it ended in.
		for j := range k {
			sz := StreamHeaderSize + len(frames[n+j])
			if r >= sz {
				r -= sz
				continue
			}
			if r > 0 {
				s.keepTail(s.hdrs[j][:], frames[n+j], r)
				j++
			}
			return n + j, nil
		}
		return n + k, nil // not reached: r < total
	}
	return n, nil
}

// send calls sendmsg(2) on the first iovcnt entries of s.iov. EAGAIN is a
// write of 0 bytes.
func (s *Stream) send(iovcnt int) (int, error) {
	s.msg.Iov = &s.iov[0]
	s.msg.SetIovlen(iovcnt)
	r, errno := sendmsg(s.fd, &s.msg)
	switch errno {
	case 0:
		return r, nil
	case unix.EAGAIN:
		return 0, nil
	case unix.EPIPE, unix.ECONNRESET, unix.EBADF, unix.ENOTCONN:
		s.err = ErrClosed
		return 0, s.err
	default:
		return 0, errno
	}
}

// keepTail copies what is left of hdr+frame after done bytes into s.tail.
func (s *Stream) keepTail(hdr, frame []byte, done int) {
	s.partials++
	s.tail = s.tail[:0]
	if done < len(hdr) {
		s.tail = append(s.tail, hdr[done:]...)
		s.tail = append(s.tail, frame...)
	} else {
		s.tail = append(s.tail, frame[done-len(hdr):]...)
	}
	s.tailOff = 0
}

// Pending reports whether the tail of a partially written frame waits to be
// written.
func (s *Stream) Pending() bool { return s.tailOff < len(s.tail) }

// Flush writes as much of the pending tail as the socket takes. A full
// socket is not an error; Pending tells whether anything is left.
func (s *Stream) Flush() error {
	if !s.Pending() {
		return nil
	}
	rest := s.tail[s.tailOff:]
	s.iov[0].Base = &rest[0]
	s.iov[0].SetLen(len(rest))
	r, err := s.send(1)
	if err != nil {
		return err
	}
	s.tailOff += r
	if s.tailOff == len(s.tail) {
		s.tail, s.tailOff = s.tail[:0], 0
	}
	return nil
}

// Dropped returns the number of frames WriteFrames skipped because they
// cannot be framed (empty, or longer than MaxStreamFrame).
func (s *Stream) Dropped() uint64 { return s.dropped }

// PartialWrites returns how many times the socket took only part of a
// frame.
func (s *Stream) PartialWrites() uint64 { return s.partials }

// Counters implements Counted.
func (s *Stream) Counters() Counters {
	return Counters{Unframable: s.dropped, PartialWrites: s.partials}
}

// Close closes the socket.
func (s *Stream) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	if s.err == nil {
		s.err = ErrClosed
	}
	if err != nil {
		return fmt.Errorf("close stream socket: %w", err)
	}
	return nil
}
