// SPDX-License-Identifier: GPL-2.0-or-later

package logging

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// SyslogPath is the system log's socket.
const SyslogPath = "/dev/log"

// Syslog priorities (RFC 3164 / syslog.h): facility daemon, and the
// severities slog levels map to.
const (
	facilityDaemon = 3 << 3
	sevErr         = 3
	sevWarning     = 4
	sevInfo        = 6
	sevDebug       = 7
)

// Syslog sends messages to the system log, one datagram each, on a socket
// connected before the sandbox. It is safe for concurrent use.
type Syslog struct {
	mu      sync.Mutex
	f       *os.File // owns fd
	fd      int
	prefix  string // "passt[PID]: "
	buf     []byte
	dropped atomic.Uint64
}

// DialSyslog connects to path (SyslogPath) as ident ("passt", "pasta").
func DialSyslog(path, ident string) (*Syslog, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("system log: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("system log %s: %w", path, err)
	}
	return NewSyslog(os.NewFile(uintptr(fd), path), ident), nil
}

// NewSyslog returns a Syslog on f, a datagram socket already connected to
// the system log (inherited from a parent that called DialSyslog).
func NewSyslog(f *os.File, ident string) *Syslog {
	return &Syslog{
		f: f, fd: int(f.Fd()),
		prefix: ident + "[" + strconv.Itoa(os.Getpid()) + "]: ",
		buf:    make([]byte, 0, 1024),
	}
}

// File returns the socket, to hand to a child process.
func (s *Syslog) File() *os.File { return s.f }

// Dropped returns how many messages could not be sent.
func (s *Syslog) Dropped() uint64 { return s.dropped.Load() }

// Close closes the socket.
func (s *Syslog) Close() error { return s.f.Close() }

// severity maps a slog level to a syslog severity.
func severity(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return sevErr
	case l >= slog.LevelWarn:
		return sevWarning
	case l >= slog.LevelInfo:
		return sevInfo
	}
	return sevDebug
}

// send formats and sends one record with the handler's attributes first.
func (s *Syslog) send(r slog.Record, pre []slog.Attr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append(s.buf[:0], '<')
	b = strconv.AppendInt(b, int64(facilityDaemon|severity(r.Level)), 10)
	b = append(b, '>')
	b = append(b, s.prefix...)
	b = append(b, r.Message...)
	attr := func(a slog.Attr) bool {
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		b = append(b, a.Value.Resolve().String()...)
		return true
	}
	for _, a := range pre {
		attr(a)
	}
	r.Attrs(attr)
	s.buf = b[:0]
	for {
		_, err := unix.Write(s.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			s.dropped.Add(1)
		}
		return
	}
}

// NewHandler returns a slog handler that sends records at level and above
// to s. Groups are flattened into the keys ("group.key").
func (s *Syslog) NewHandler(level slog.Leveler) slog.Handler {
	return &syslogHandler{s: s, level: level}
}

type syslogHandler struct {
	s      *Syslog
	level  slog.Leveler
	attrs  []slog.Attr
	prefix string // open groups, "a.b."
}

func (h *syslogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *syslogHandler) Handle(_ context.Context, r slog.Record) error {
	if h.prefix != "" {
		nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			a.Key = h.prefix + a.Key
			nr.AddAttrs(a)
			return true
		})
		r = nr
	}
	h.s.send(r, h.attrs)
	return nil
}

func (h *syslogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return &n
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}
