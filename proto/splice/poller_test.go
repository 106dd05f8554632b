// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
)

// epollPoller is a flow.Poller on a real epoll instance, with the Ref
// packed into the event data as the engine does.
type epollPoller struct {
	fd     int
	ev     unix.EpollEvent
	events [64]unix.EpollEvent
}

func newEpollPoller(t testing.TB) *epollPoller {
	t.Helper()
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	return &epollPoller{fd: fd}
}

func (p *epollPoller) ctl(op, fd int, events uint32, ref flow.Ref) error {
	v := ref.Pack()
	p.ev = unix.EpollEvent{Events: events, Fd: int32(uint32(v)), Pad: int32(uint32(v >> 32))}
	return unix.EpollCtl(p.fd, op, fd, &p.ev)
}

func (p *epollPoller) Add(fd int, events uint32, ref flow.Ref) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, events, ref)
}

func (p *epollPoller) Mod(fd int, events uint32, ref flow.Ref) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, events, ref)
}

func (p *epollPoller) Del(fd int) error {
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// step waits up to timeoutMs for events and dispatches them to h as the
// engine does: HandleSock for each, then Deferred and Tick. It returns the
// number of events.
func (p *epollPoller) step(h *Handler, timeoutMs int) int {
	n, err := unix.EpollWait(p.fd, p.events[:], timeoutMs)
	if err != nil {
		return 0
	}
	now := time.Now().UnixNano()
	for _, ev := range p.events[:n] {
		ref := flow.Unpack(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		h.HandleSock(ref, ev.Events, now)
	}
	h.Deferred(now)
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
	p       *epollPoller
	reqs    chan func()
	stop    chan struct{}
	stopped chan struct{}
	wakeups atomic.Int64 // wake-ups with at least one event
}

// startLoop makes a Handler from cfg (Poller and NsSocket filled in if
// nil) and runs it until the test ends.
func startLoop(t testing.TB, cfg Config) *loop {
	t.Helper()
	p := newEpollPoller(t)
	if cfg.Poller == nil {
		cfg.Poller = p
	}
	if cfg.NsSocket == nil {
		cfg.NsSocket = hostSocket
	}
	h, err := New(cfg)
	if err != nil {
		unix.Close(p.fd)
		t.Fatal(err)
	}
	l := &loop{h: h, p: p, reqs: make(chan func()), stop: make(chan struct{}), stopped: make(chan struct{})}
	go l.run()
	t.Cleanup(func() {
		close(l.stop)
		<-l.stopped
		h.Close()
		unix.Close(p.fd)
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
		if l.p.step(l.h, 5) > 0 {
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
func (l *loop) stats() (s Stats, n int) {
	l.do(func() { s, n = l.h.Stats, l.h.Len() })
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
