// SPDX-License-Identifier: GPL-2.0-or-later

package audit

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// DefaultRing is the size of the ring buffer between the event loop and
// the writer: some thousands of events.
const DefaultRing = 1 << 20

// lineMax is the scratch space for one formatted event; a longer event
// (a rule text of kilobytes) is dropped and counted.
const lineMax = 1024

// Log is a flow audit log: JSON lines written to a file by a goroutine of
// its own, fed through a single-producer single-consumer byte ring. The
// producer is the event loop (Emit); it formats each event into a scratch
// line by hand and copies it into the ring, or drops it and counts it
// when the ring has no room: a slow file, a full disk or a blocked pipe
// never stalls the data path, it only costs events. The writer goroutine
// wakes on a one-slot channel and writes whole lines, in order.
//
// Emit and Dropped belong to the event-loop goroutine; Close to whoever
// ends the log, once the event loop is done.
type Log struct {
	f    *os.File
	ring []byte        // power-of-two size
	head atomic.Uint64 // bytes produced (Emit)
	tail atomic.Uint64 // bytes consumed (writer)
	wake chan struct{} // one slot: "there is data"
	done chan struct{} // closed when the writer returns
	stop atomic.Bool

	line    [lineMax]byte
	emitted uint64
	dropped atomic.Uint64 // events lost: ring full, event too long
	werrs   atomic.Uint64 // write errors (events already counted as written)
}

// Open opens path for appending ("-": standard error) and starts a log.
// Call it before the sandbox takes the file system away; the daemons open
// it in the launcher and hand the descriptor over (New).
func Open(path string) (*Log, error) {
	if path == "-" {
		return New(os.Stderr, DefaultRing), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return New(f, DefaultRing), nil
}

// New starts a log writing to f with a ring of ringSize bytes (rounded up
// to a power of two, at least 4 KiB).
func New(f *os.File, ringSize int) *Log {
	n := 4096
	for n < ringSize {
		n <<= 1
	}
	l := &Log{f: f, ring: make([]byte, n), wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.writer()
	return l
}

// Emit formats ev and queues it for writing; it never blocks and does not
// allocate. ev.Time zero means now.
func (l *Log) Emit(ev *Event) {
	if l == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b := AppendJSON(l.line[:0], ev)
	if len(b) > lineMax || &b[0] != &l.line[0] { // outgrew the scratch: it allocated; drop it
		l.dropped.Add(1)
		return
	}
	head, tail := l.head.Load(), l.tail.Load()
	if uint64(len(l.ring))-(head-tail) < uint64(len(b)) {
		l.dropped.Add(1)
		return
	}
	mask := uint64(len(l.ring) - 1)
	off := head & mask
	n := copy(l.ring[off:], b)
	copy(l.ring, b[n:])
	l.head.Store(head + uint64(len(b)))
	l.emitted++
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Dropped returns the number of events lost.
func (l *Log) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.dropped.Load()
}

// Emitted returns the number of events queued for writing.
func (l *Log) Emitted() uint64 {
	if l == nil {
		return 0
	}
	return l.emitted
}

// WriteErrors returns the number of failed writes.
func (l *Log) WriteErrors() uint64 {
	if l == nil {
		return 0
	}
	return l.werrs.Load()
}

// writer drains the ring to the file until Close.
func (l *Log) writer() {
	defer close(l.done)
	mask := uint64(len(l.ring) - 1)
	for {
		head, tail := l.head.Load(), l.tail.Load()
		if head == tail {
			if l.stop.Load() {
				return
			}
			<-l.wake
			continue
		}
		off := tail & mask
		end := min(uint64(len(l.ring)), off+(head-tail))
		n, err := l.f.Write(l.ring[off:end])
		if err != nil {
			l.werrs.Add(1)
			if n <= 0 {
				n = int(end - off) // drop what could not be written: never spin
			}
		}
		l.tail.Store(tail + uint64(n))
	}
}

// Flush waits up to timeout for the writer to write what is queued, and
// reports whether it did.
func (l *Log) Flush(timeout time.Duration) bool {
	if l == nil {
		return true
	}
	deadline := time.Now().Add(timeout)
	for l.tail.Load() != l.head.Load() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Close writes what is queued (waiting up to timeout: a stuck file is
// abandoned, not waited for) and closes the file unless it is stderr.
func (l *Log) Close(timeout time.Duration) error {
	if l == nil {
		return nil
	}
	l.stop.Store(true)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-l.done:
	case <-time.After(timeout):
		return fmt.Errorf("audit log: writer stuck, %d bytes unwritten", l.head.Load()-l.tail.Load())
	}
	if l.f == os.Stderr {
		return nil
	}
	return l.f.Close()
}
