// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"errors"
	"fmt"
	"math/bits"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/policy"
)

// ScanInterval is the least time between two scans, passt's 1 s.
const ScanInterval = int64(time.Second)

// readBufSize is the read buffer of a Scanner; more than MaxLineLen.
const readBufSize = 32 << 10

// table is one /proc/net file to scan.
type table struct {
	name  string // "tcp", "tcp6", "udp", "udp6"
	state uint8  // listening state to look for
	fd    int    // -1 if it could not be opened
}

// Scanner reports ports that become bound or unbound on one side. See the
// package documentation. Not safe for concurrent use.
type Scanner struct {
	tables  []table
	f       *policy.Forward
	own     func(port uint16) bool
	openErr error // why no table could be opened, or a bad proto

	scanned bool
	next    int64 // monotonic ns of the earliest next scan
	cur     portSet
	prev    portSet
	added   []uint16
	removed []uint16
	p       tableParser

	// Bad counts the malformed or overlong lines skipped in the last scan.
	Bad int
}

// tablesFor returns the tables scanned for proto: TCP listening sockets,
// and for UDP also unconnected UDP sockets.
func tablesFor(proto string) ([]table, error) {
	switch proto {
	case "tcp":
		return []table{{"tcp", StateTCPListen, -1}, {"tcp6", StateTCPListen, -1}}, nil
	case "udp":
		return []table{
			{"udp", StateUDPUnconned, -1}, {"udp6", StateUDPUnconned, -1},
			{"tcp", StateTCPListen, -1}, {"tcp6", StateTCPListen, -1},
		}, nil
	}
	return nil, fmt.Errorf("fwd: protocol %q is neither tcp nor udp", proto)
}

// NewScanner returns a Scanner of the tables in procNetDir (such as
// /proc/PID/net or /proc/self/net) for proto "tcp" or "udp". f selects the
// ports (its Auto rules and excludes; nil means every port); own reports
// ports held by gopasst itself on that side (nil: none). The tables are
// opened now; errors show on Scan.
func NewScanner(procNetDir string, proto string, f *policy.Forward, own func(port uint16) bool) *Scanner {
	return NewScannerOpen(func(name string) (int, error) {
		return unix.Open(procNetDir+"/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}, proto, f, own)
}

// NewScannerOpen is NewScanner with the tables opened by open(name), name
// being "tcp", "tcp6", "udp" or "udp6". With a netns.Worker w:
//
//	open := func(name string) (fd int, err error) {
//		err = w.Do(func() error {
//			fd, err = unix.Open("/proc/thread-self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
//			return err
//		})
//		return fd, err
//	}
func NewScannerOpen(open func(name string) (int, error), proto string, f *policy.Forward, own func(port uint16) bool) *Scanner {
	s := &Scanner{
		f:       f,
		own:     own,
		added:   make([]uint16, 0, 64),
		removed: make([]uint16, 0, 64),
		p:       tableParser{buf: make([]byte, readBufSize)},
	}
	tables, err := tablesFor(proto)
	if err != nil {
		s.openErr = err
		return s
	}
	var errs []error
	opened := 0
	for i := range tables {
		fd, err := open(tables[i].name)
		if err != nil {
			// No IPv6 (or IPv4) in the namespace: fine, if another
			// table opens.
			errs = append(errs, fmt.Errorf("fwd: open %s table: %w", tables[i].name, err))
			continue
		}
		tables[i].fd = fd
		opened++
	}
	s.tables = tables
	if opened == 0 {
		s.openErr = errors.Join(errs...)
	}
	return s
}

// Close closes the tables.
func (s *Scanner) Close() error {
	for i := range s.tables {
		if s.tables[i].fd >= 0 {
			unix.Close(s.tables[i].fd)
			s.tables[i].fd = -1
		}
	}
	return nil
}

// Next returns the monotonic time of the next scan Scan makes (0 before
// the first: at once).
func (s *Scanner) Next() int64 {
	if !s.scanned {
		return 0
	}
	return s.next
}

// Scan rescans the tables if ScanInterval has passed since the last scan
// (the first call always scans) and returns the ports bound since the last
// scan and those no longer bound, both ascending. The slices are reused by
// the next Scan. Between intervals, and on error, it returns nothing new.
func (s *Scanner) Scan(now int64) (added, removed []uint16, err error) {
	if s.scanned && now < s.next {
		return nil, nil, nil
	}
	s.next = now + ScanInterval
	if s.openErr != nil {
		return nil, nil, s.openErr
	}
	s.cur = portSet{}
	s.Bad = 0
	for i := range s.tables {
		t := &s.tables[i]
		if t.fd < 0 {
			continue
		}
		if err := s.read(t); err != nil {
			return nil, nil, err
		}
	}
	s.filter()
	s.added, s.removed = s.added[:0], s.removed[:0]
	for w := range s.cur {
		for a := s.cur[w] &^ s.prev[w]; a != 0; a &= a - 1 {
			s.added = append(s.added, uint16(w<<6|bits.TrailingZeros64(a)))
		}
		for r := s.prev[w] &^ s.cur[w]; r != 0; r &= r - 1 {
			s.removed = append(s.removed, uint16(w<<6|bits.TrailingZeros64(r)))
		}
	}
	s.prev = s.cur
	s.scanned = true
	return s.added, s.removed, nil
}

// Bound reports whether port counted as bound (and forwardable) in the
// last scan.
func (s *Scanner) Bound(port uint16) bool { return s.prev.has(port) }

// read parses one table from its start into s.cur.
func (s *Scanner) read(t *table) error {
	if _, err := unix.Seek(t.fd, 0, 0); err != nil {
		return fmt.Errorf("fwd: seek %s table: %w", t.name, err)
	}
	s.p.reset(t.state, &s.cur)
	for {
		n, err := unix.Read(t.fd, s.p.space())
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("fwd: read %s table: %w", t.name, err)
		}
		if n == 0 {
			s.p.end()
			s.Bad += s.p.bad
			s.p.bad = 0
			return nil
		}
		s.p.feed(n)
	}
}

// filter drops the ports not to forward: not covered by an Auto rule, or
// gopasst's own.
func (s *Scanner) filter() {
	for w := range s.cur {
		for b := s.cur[w]; b != 0; b &= b - 1 {
			p := uint16(w<<6 | bits.TrailingZeros64(b))
			if !s.wanted(p) {
				s.cur.del(p)
			}
		}
	}
}

// wanted reports whether a bound port is to be forwarded.
func (s *Scanner) wanted(p uint16) bool {
	if s.own != nil && s.own(p) {
		return false
	}
	if s.f == nil {
		return true
	}
	r, ok := s.f.LookupRule(p)
	return ok && r.Auto
}

// Listener returns the listener to open on the other side for a port
// Scan reported: same port, with the bind address, interface and target
// of the rule covering it (target port = ToFirst + port - First). ok is
// false if no rule of the Forward covers port; with a nil Forward the
// target is the same port.
func (s *Scanner) Listener(port uint16) (l policy.Listener, ok bool) {
	if s.f == nil {
		return policy.Listener{Port: port, ToPort: port}, true
	}
	r, ok := s.f.LookupRule(port)
	if !ok {
		return policy.Listener{}, false
	}
	return policy.Listener{
		Bind: r.Bind, Iface: r.Iface, Port: port,
		ToPort: r.ToFirst + (port - r.First), ToAddr: r.ToAddr,
		Freebind: s.f.Freebind,
	}, true
}
