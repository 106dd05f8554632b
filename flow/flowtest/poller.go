// SPDX-License-Identifier: GPL-2.0-or-later

package flowtest

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
)

// Poller is a flow.Poller on a real epoll instance, with the Ref packed
// into the event data as the engine does.
type Poller struct {
	// Fd is the epoll instance; -1 once closed.
	Fd int
	// Live maps each registered fd to its Ref, for checks; nil: not
	// tracked, so that Add, Mod and Del do not allocate.
	Live map[int]flow.Ref

	ev     unix.EpollEvent
	events [64]unix.EpollEvent
}

// Event is one ready fd.
type Event struct {
	Ref    flow.Ref
	Events uint32
}

// NewPoller returns a Poller that tracks Live registrations. It is closed
// when the test ends.
func NewPoller(t testing.TB) *Poller {
	t.Helper()
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	p := &Poller{Fd: fd, Live: make(map[int]flow.Ref)}
	t.Cleanup(p.Close)
	return p
}

// Close closes the epoll instance; later calls do nothing.
func (p *Poller) Close() {
	if p.Fd >= 0 {
		unix.Close(p.Fd)
		p.Fd = -1
	}
}

func (p *Poller) ctl(op, fd int, events uint32, ref flow.Ref) error {
	v := ref.Pack()
	p.ev = unix.EpollEvent{Events: events, Fd: int32(uint32(v)), Pad: int32(uint32(v >> 32))}
	return unix.EpollCtl(p.Fd, op, fd, &p.ev)
}

// Add implements flow.Poller.
func (p *Poller) Add(fd int, events uint32, ref flow.Ref) error {
	if err := p.ctl(unix.EPOLL_CTL_ADD, fd, events, ref); err != nil {
		return err
	}
	if p.Live != nil {
		p.Live[fd] = ref
	}
	return nil
}

// Mod implements flow.Poller.
func (p *Poller) Mod(fd int, events uint32, ref flow.Ref) error {
	if err := p.ctl(unix.EPOLL_CTL_MOD, fd, events, ref); err != nil {
		return err
	}
	if p.Live != nil {
		p.Live[fd] = ref
	}
	return nil
}

// Del implements flow.Poller.
func (p *Poller) Del(fd int) error {
	delete(p.Live, fd)
	return unix.EpollCtl(p.Fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Dispatch waits up to ms milliseconds (-1: forever) for events and calls
// f for each ready fd, in the order epoll returns them. It returns the
// number of events; EINTR counts as none. It does not allocate.
func (p *Poller) Dispatch(ms int, f func(ref flow.Ref, events uint32)) (int, error) {
	n, err := unix.EpollWait(p.Fd, p.events[:], ms)
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for _, ev := range p.events[:n] {
		f(flow.Unpack(uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32), ev.Events)
	}
	return n, nil
}

// Wait waits up to timeout for events and returns them. An epoll error
// fails the test.
func (p *Poller) Wait(t testing.TB, timeout time.Duration) []Event {
	t.Helper()
	var evs []Event
	if _, err := p.Dispatch(int(timeout/time.Millisecond), func(ref flow.Ref, events uint32) {
		evs = append(evs, Event{ref, events})
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}
