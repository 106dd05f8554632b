// SPDX-License-Identifier: GPL-2.0-or-later

package pcap

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Format constants (libpcap savefile format, "LINKTYPE_ETHERNET").
const (
	Magic        = 0xa1b2c3d4 // microsecond-resolution magic
	VersionMajor = 2
	VersionMinor = 4
	SnapLen      = 65535
	LinkTypeEth  = 1 // LINKTYPE_ETHERNET

	GlobalHeaderSize = 24
	RecordHeaderSize = 16
)

// Writer appends frames to a capture file. See the package comment.
type Writer struct {
	fd     int
	rec    [RecordHeaderSize]byte // record header, rewritten per frame
	iov    [2]unix.Iovec          // rec, frame; bases are set per frame
	frames uint64                 // frames written
	errors uint64                 // frames lost to write errors
	err    error                  // first write error
}

// Create creates or truncates the file at path (mode 0600) and writes the
// global header.
func Create(path string) (*Writer, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open pcap file %s: %w", path, err)
	}
	w := NewFromFd(fd)
	var hdr [GlobalHeaderSize]byte
	putGlobalHeader(hdr[:])
	if err := writeAll(fd, hdr[:]); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("write pcap header to %s: %w", path, err)
	}
	return w, nil
}

// NewFromFd wraps an fd that is already open for writing and positioned
// after a global header. The Writer takes ownership of fd.
func NewFromFd(fd int) *Writer {
	w := &Writer{fd: fd}
	w.iov[0].Base = &w.rec[0]
	w.iov[0].SetLen(RecordHeaderSize)
	return w
}

// putGlobalHeader writes the pcap global header. All fields are little
// endian; readers learn the byte order from the magic, so the file reads the
// same on any host.
func putGlobalHeader(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], Magic)
	le.PutUint16(b[4:], VersionMajor)
	le.PutUint16(b[6:], VersionMinor)
	le.PutUint32(b[8:], 0)  // thiszone
	le.PutUint32(b[12:], 0) // sigfigs
	le.PutUint32(b[16:], SnapLen)
	le.PutUint32(b[20:], LinkTypeEth)
}

// Write appends frame, stamped with now.
func (w *Writer) Write(frame []byte, now time.Time) {
	w.WriteNanos(frame, now.UnixNano())
}

// WriteNanos appends frame, stamped with unixNano nanoseconds since the Unix
// epoch. It makes one writev(2) and allocates nothing.
func (w *Writer) WriteNanos(frame []byte, unixNano int64) {
	if w == nil || w.fd < 0 {
		return
	}
	capLen := len(frame)
	if capLen > SnapLen {
		capLen = SnapLen
	}
	le := binary.LittleEndian
	le.PutUint32(w.rec[0:], uint32(unixNano/1e9))
	le.PutUint32(w.rec[4:], uint32(unixNano%1e9/1e3))
	le.PutUint32(w.rec[8:], uint32(capLen))
	le.PutUint32(w.rec[12:], uint32(len(frame)))

	n := 1
	if capLen > 0 {
		w.iov[1].Base = &frame[0]
		w.iov[1].SetLen(capLen)
		n = 2
	}
	want := RecordHeaderSize + capLen
	var (
		r     int
		errno unix.Errno
	)
	for range 8 { // bounded retry on EINTR
		r, errno = writev(w.fd, w.iov[:n])
		if errno != unix.EINTR {
			break
		}
	}
	w.iov[1].Base = nil // do not keep the caller's frame reachable
	switch {
	case errno != 0:
		w.fail(errno)
	case r < want:
		// Short write to a regular file (disk full): finish it so that the
		// file stays parseable, or give up on the record.
		if err := w.finish(frame[:capLen], r); err != nil {
			w.fail(err)
			return
		}
		w.frames++
	default:
		w.frames++
	}
}

// finish writes what a short writev left out; done bytes of rec+frame were
// written.
func (w *Writer) finish(frame []byte, done int) error {
	if done < RecordHeaderSize {
		if err := writeAll(w.fd, w.rec[done:]); err != nil {
			return err
		}
		done = RecordHeaderSize
	}
	return writeAll(w.fd, frame[done-RecordHeaderSize:])
}

func (w *Writer) fail(err error) {
	w.errors++
	if w.err == nil {
		w.err = err
	}
}

// Frames returns the number of frames written.
func (w *Writer) Frames() uint64 { return w.frames }

// Errors returns the number of frames lost to write errors, and the first
// such error.
func (w *Writer) Errors() (uint64, error) { return w.errors, w.err }

// Close closes the file. Writes after Close are ignored.
func (w *Writer) Close() error {
	if w == nil || w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	if err != nil {
		return fmt.Errorf("close pcap file: %w", err)
	}
	return nil
}

func writeAll(fd int, b []byte) error {
	for tries := 0; len(b) > 0; tries++ {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR && tries < 8 {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO
		}
		b = b[n:]
	}
	return nil
}

// WriteFrames appends each of frames with the same timestamp, as the tap
// side hands them over in batches.
func (w *Writer) WriteFrames(frames [][]byte, unixNano int64) {
	for _, f := range frames {
		w.WriteNanos(f, unixNano)
	}
}
