// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
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
	events [16]unix.EpollEvent
	live   map[int]flow.Ref // fd → ref, for checks; nil: not tracked (no allocation)
}

func newEpollPoller(t testing.TB) *epollPoller {
	t.Helper()
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	p := &epollPoller{fd: fd, live: make(map[int]flow.Ref)}
	t.Cleanup(func() { unix.Close(fd) })
	return p
}

func (p *epollPoller) ctl(op, fd int, events uint32, ref flow.Ref) error {
	v := ref.Pack()
	p.ev = unix.EpollEvent{Events: events, Fd: int32(uint32(v)), Pad: int32(uint32(v >> 32))}
	return unix.EpollCtl(p.fd, op, fd, &p.ev)
}

func (p *epollPoller) Add(fd int, events uint32, ref flow.Ref) error {
	if err := p.ctl(unix.EPOLL_CTL_ADD, fd, events, ref); err != nil {
		return err
	}
	if p.live != nil {
		p.live[fd] = ref
	}
	return nil
}

func (p *epollPoller) Mod(fd int, events uint32, ref flow.Ref) error {
	if err := p.ctl(unix.EPOLL_CTL_MOD, fd, events, ref); err != nil {
		return err
	}
	if p.live != nil {
		p.live[fd] = ref
	}
	return nil
}

func (p *epollPoller) Del(fd int) error {
	delete(p.live, fd)
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// pollEvent is one ready fd.
type pollEvent struct {
	ref    flow.Ref
	events uint32
}

// wait waits up to timeout for events.
func (p *epollPoller) wait(t testing.TB, timeout time.Duration) []pollEvent {
	t.Helper()
	n, err := unix.EpollWait(p.fd, p.events[:], int(timeout/time.Millisecond))
	if err == unix.EINTR {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]pollEvent, n)
	for i, ev := range p.events[:n] {
		evs[i] = pollEvent{flow.Unpack(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32), ev.Events}
	}
	return evs
}

// recordingTap keeps a copy of every frame.
type recordingTap struct{ frames [][]byte }

func (r *recordingTap) Send(frames [][]byte) {
	for _, f := range frames {
		r.frames = append(r.frames, append([]byte(nil), f...))
	}
}

// countingTap counts frames without copying, for allocation tests.
type countingTap struct{ n int }

func (c *countingTap) Send(frames [][]byte) { c.n += len(frames) }

// fakePoller accepts every registration and counts them.
type fakePoller struct{ adds, dels, mods int }

func (p *fakePoller) Add(fd int, events uint32, ref flow.Ref) error { p.adds++; return nil }
func (p *fakePoller) Mod(fd int, events uint32, ref flow.Ref) error { p.mods++; return nil }
func (p *fakePoller) Del(fd int) error                              { p.dels++; return nil }
