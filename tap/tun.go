// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Tun is a tap device opened with IFF_TAP|IFF_NO_PI: one read(2) or
// write(2) moves one whole frame. Mirrors tap_handler_pasta() and
// tap_send_frames_pasta() in passt tap.c.
type Tun struct {
	fd          int
	writeErrors uint64 // frames refused by write(2) for another reason than a full queue
}

// NewTun wraps fd, an open tap file descriptor (IFF_TAP|IFF_NO_PI). It sets
// O_NONBLOCK. The Device takes ownership of fd.
func NewTun(fd int) Device {
	_ = unix.SetNonblock(fd, true)
	return &Tun{fd: fd}
}

// Fd returns the tap file descriptor.
func (t *Tun) Fd() int { return t.fd }

// ReadFrames reads one frame per read(2) until EAGAIN or len(bufs) frames.
// A frame longer than its buffer is truncated by the kernel; size the
// buffers for the tap MTU plus headers.
func (t *Tun) ReadFrames(bufs [][]byte, sizes []int) (int, error) {
	n := 0
	for n < len(bufs) && n < len(sizes) {
		r, errno := read(t.fd, bufs[n])
		switch errno {
		case 0:
		case unix.EAGAIN:
			return n, nil
		case unix.EBADF, unix.EBADFD:
			return n, ErrClosed
		default:
			return n, errno
		}
		if r == 0 {
			// A tap read never returns 0 while the device exists.
			return n, ErrClosed
		}
		sizes[n] = r
		n++
	}
	return n, nil
}

// WriteFrames writes each frame with one write(2). EAGAIN and ENOBUFS
// (queue full) stop the batch; other per-frame errors (EIO with the link
// down, EINVAL for a frame the kernel rejects) drop that frame and count
// it in WriteErrors. Only EBADF is returned as an error.
func (t *Tun) WriteFrames(frames [][]byte) (int, error) {
	n := 0
	for _, f := range frames {
		_, errno := write(t.fd, f)
		switch errno {
		case 0:
		case unix.EAGAIN, unix.ENOBUFS:
			return n, nil
		case unix.EBADF, unix.EBADFD:
			return n, ErrClosed
		default:
			t.writeErrors++
		}
		n++
	}
	return n, nil
}

// WriteErrors returns how many frames write(2) refused with an error other
// than a full queue (EIO while the link is down, EINVAL); WriteFrames
// counted them as written and dropped them.
func (t *Tun) WriteErrors() uint64 { return t.writeErrors }

// Counters implements Counted.
func (t *Tun) Counters() Counters { return Counters{WriteErrors: t.writeErrors} }

// Close closes the tap file descriptor.
func (t *Tun) Close() error {
	if t.fd < 0 {
		return nil
	}
	err := unix.Close(t.fd)
	t.fd = -1
	if err != nil {
		return fmt.Errorf("close tap: %w", err)
	}
	return nil
}
