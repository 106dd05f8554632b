// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
)

// newPoller returns an epoll-backed flow.Poller that does not track
// registrations, so that it never allocates (alloc_test.go).
func newPoller(tb testing.TB) *flowtest.Poller {
	tb.Helper()
	p := flowtest.NewPoller(tb)
	p.Live = nil
	return p
}

// step waits up to timeoutMs for events and dispatches them to h as the
// engine does: HandleSock for each, then End and Tick. It returns the
// number of events.
func step(p *flowtest.Poller, h *Handler, timeoutMs int) int {
	var now int64
	n, err := p.Dispatch(timeoutMs, func(ref flow.Ref, events uint32) {
		if now == 0 {
			now = time.Now().UnixNano()
		}
		h.HandleSock(ref, events, now)
	})
	if err != nil {
		return 0
	}
	if now == 0 {
		now = time.Now().UnixNano()
	}
	h.End(now)
	h.Tick(now)
	return n
}

// hostSocket is NsSocket for tests that run in one namespace.
func hostSocket(domain, typ, proto int) (int, error) {
	return unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
}

// loop runs a Handler's event loop on its own goroutine, as the engine
// does; do runs a function on that goroutine between wake-ups.
type loop struct {
	h       *Handler
	p       *flowtest.Poller
	reqs    chan func()
	stop    chan struct{}
	stopped chan struct{}
	wakeups atomic.Int64 // wake-ups with at least one event
}

// startLoop makes a Handler from cfg (Poller and NsSocket filled in if
// nil) and runs it until the test ends.
func startLoop(t testing.TB, cfg Config) *loop {
	t.Helper()
	p := newPoller(t)
	if cfg.Poller == nil {
		cfg.Poller = p
	}
	if cfg.NsSocket == nil {
		cfg.NsSocket = hostSocket
	}
	h, err := New(cfg)
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	l := &loop{h: h, p: p, reqs: make(chan func()), stop: make(chan struct{}), stopped: make(chan struct{})}
	go l.run()
	t.Cleanup(func() {
		close(l.stop)
		<-l.stopped
		h.Close()
		p.Close()
	})
	return l
}

func (l *loop) run() {
	defer close(l.stopped)
	for {
		select {
		case <-l.stop:
			return
		case f := <-l.reqs:
			f()
			continue
		default:
		}
		if step(l.p, l.h, 5) > 0 {
			l.wakeups.Add(1)
		}
	}
}

// do runs f on the loop goroutine and waits for it.
func (l *loop) do(f func()) {
	done := make(chan struct{})
	l.reqs <- func() { f(); close(done) }
	<-done
}

// stats returns a copy of the handler's counters and its Len.
func (l *loop) stats() (s Counts, n int) {
	l.do(func() { s, n = l.h.counts, l.h.Len() })
	return s, n
}

// waitLen waits up to 5 s for the handler to have n connections.
func (l *loop) waitLen(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, got := l.stats()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Len = %d, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
