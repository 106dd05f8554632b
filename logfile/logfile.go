// SPDX-License-Identifier: GPL-2.0-or-later

package logfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// DefaultSize is passt's default --log-size, 1 MiB.
const DefaultSize = 1 << 20

// cutPercent is the share of the limit removed to make room (passt's
// LOGFILE_CUT_RATIO).
const cutPercent = 30

// File is a log file that never grows past its limit. Safe for concurrent
// use by one process; see Limits in the package documentation.
type File struct {
	mu  sync.Mutex
	f   *os.File
	max int64
	buf []byte // for moving data in rotate
}

// Open creates or truncates path (mode 0600) for a log of at most max
// bytes (DefaultSize if max <= 0).
func Open(path string, max int64) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return New(f, max), nil
}

// New wraps an open, readable and writable file (passt's guest processes
// inherit the supervisor's).
func New(f *os.File, max int64) *File {
	if max <= 0 {
		max = DefaultSize
	}
	return &File{f: f, max: max, buf: make([]byte, 32<<10)}
}

// Write appends p, first removing old lines if p would not fit.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if int64(len(p)) > l.max {
		p = p[int64(len(p))-l.max:]
	}
	end, err := l.f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if end+int64(len(p)) > l.max {
		if end, err = l.rotate(end, int64(len(p))); err != nil {
			return 0, err
		}
	}
	if _, err := l.f.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// rotate removes the oldest lines of a file of size bytes so that need
// more bytes fit, and leaves the offset at the new end, which it returns.
func (l *File) rotate(size, need int64) (int64, error) {
	cut := max(l.max*cutPercent/100, size+need-l.max)
	if cut >= size {
		return 0, l.truncate(0)
	}
	// Start after the end of the line cut falls in.
	start := int64(-1)
	for off := cut; off < size && start < 0; {
		k, err := l.readAt(l.buf, off)
		if err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(l.buf[:k], '\n'); i >= 0 {
			start = off + int64(i) + 1
		}
		off += int64(k)
	}
	if start < 0 || start >= size {
		return 0, l.truncate(0)
	}
	var w int64
	for r := start; r < size; {
		k, err := l.readAt(l.buf, r)
		if err != nil {
			return 0, err
		}
		if _, err := l.f.Seek(w, io.SeekStart); err != nil {
			return 0, err
		}
		if _, err := l.f.Write(l.buf[:k]); err != nil {
			return 0, err
		}
		r, w = r+int64(k), w+int64(k)
	}
	return w, l.truncate(w)
}

// readAt reads up to len(b) bytes at off (at least one, unless at the
// end) with lseek and read: pread64 is not in the seccomp allowlist.
func (l *File) readAt(b []byte, off int64) (int, error) {
	if _, err := l.f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	k, err := l.f.Read(b)
	if k == 0 && err == nil {
		err = io.ErrUnexpectedEOF
	}
	if k > 0 {
		err = nil
	}
	return k, err
}

// truncate cuts the file at size and puts the offset there.
func (l *File) truncate(size int64) error {
	if err := l.f.Truncate(size); err != nil {
		return err
	}
	_, err := l.f.Seek(size, io.SeekStart)
	return err
}

// Close closes the file.
func (l *File) Close() error { return l.f.Close() }
