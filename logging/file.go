// SPDX-License-Identifier: GPL-2.0-or-later

package logging

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// DefaultFileSize is the --log-size default, passt's LOGFILE_SIZE_DEFAULT.
const DefaultFileSize = 1 << 20

// keepPercent is how much of the size a rotation leaves, at most: passt's
// LOGFILE_CUT_RATIO is 30%, so that rotations are rare.
const keepPercent = 70

// Open opens (creates, mode 0600, or truncates, as passt does) the -l file
// for a File. Call it before the sandbox.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

// File writes messages to a log file and keeps it within a size by
// dropping the oldest lines; see "Theory of operation". It is safe for
// concurrent use.
type File struct {
	mu  sync.Mutex
	f   *os.File // kept referenced: its finalizer would close fd
	fd  int
	max int64
	buf []byte // rotation copy buffer, allocated once
}

// NewFile returns a File on f (from Open, or inherited) holding at most max
// bytes; max <= 0 means DefaultFileSize.
func NewFile(f *os.File, max int64) *File {
	if max <= 0 {
		max = DefaultFileSize
	}
	return &File{f: f, fd: int(f.Fd()), max: max, buf: make([]byte, 32<<10)}
}

// Write appends p, one message, dropping the oldest lines first if the
// file would grow beyond its size. A message longer than the size is cut
// to it.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if int64(len(p)) > l.max {
		p = p[:l.max]
	}
	size, err := unix.Seek(l.fd, 0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("log file: %w", err)
	}
	if size+int64(len(p)) > l.max {
		if err := l.rotate(size, int64(len(p))); err != nil {
			return 0, fmt.Errorf("log file: %w", err)
		}
	}
	for len(p) > 0 {
		w, err := unix.Write(l.fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("log file: %w", err)
		}
		p = p[w:]
	}
	return n, nil
}

// rotate drops the oldest lines of a file of size bytes so that need more
// fit, keeping at most keepPercent of the size, and leaves the offset at
// the new end.
func (l *File) rotate(size, need int64) error {
	keep := l.max*keepPercent/100 - need
	if keep > l.max-need {
		keep = l.max - need
	}
	keep = max(keep, 0)
	cut := size - keep
	// Start the kept part after the first newline at or after cut.
	for cut < size {
		r, err := l.pread(l.buf, cut)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(l.buf[:r], '\n'); i >= 0 {
			cut += int64(i) + 1
			break
		}
		cut += int64(r)
	}
	var dst int64
	for src := cut; src < size; {
		r, err := l.pread(l.buf, src)
		if err != nil {
			return err
		}
		if _, err := unix.Seek(l.fd, dst, io.SeekStart); err != nil {
			return err
		}
		for b := l.buf[:r]; len(b) > 0; {
			w, err := unix.Write(l.fd, b)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			b = b[w:]
		}
		src += int64(r)
		dst += int64(r)
	}
	if err := unix.Ftruncate(l.fd, dst); err != nil {
		return err
	}
	_, err := unix.Seek(l.fd, dst, io.SeekStart)
	return err
}

// pread reads up to len(b) bytes at off; at least one unless off is at
// the end, which the callers never ask.
func (l *File) pread(b []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(l.fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err == nil && n == 0 {
			return 0, io.ErrUnexpectedEOF
		}
		return n, err
	}
}

// Close closes the file.
func (l *File) Close() error { return l.f.Close() }
