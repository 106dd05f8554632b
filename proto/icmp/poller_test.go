// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"os"
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
	live   map[int]flow.Ref // fd → ref, for checks
}

func newEpollPoller(t *testing.T) *epollPoller {
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
	p.live[fd] = ref
	return nil
}

func (p *epollPoller) Mod(fd int, events uint32, ref flow.Ref) error {
	if err := p.ctl(unix.EPOLL_CTL_MOD, fd, events, ref); err != nil {
		return err
	}
	p.live[fd] = ref
	return nil
}

func (p *epollPoller) Del(fd int) error {
	delete(p.live, fd)
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// wait waits up to timeout for events and returns their refs.
func (p *epollPoller) wait(t *testing.T, timeout time.Duration) []flow.Ref {
	t.Helper()
	n, err := unix.EpollWait(p.fd, p.events[:], int(timeout/time.Millisecond))
	if err == unix.EINTR {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]flow.Ref, n)
	for i, ev := range p.events[:n] {
		refs[i] = flow.Unpack(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
	}
	return refs
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

// enablePingSockets widens net.ipv4.ping_group_range for the test and
// restores it afterwards. It skips the test when that is not possible.
func enablePingSockets(t testing.TB) {
	t.Helper()
	const path = "/proc/sys/net/ipv4/ping_group_range"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("cannot read %s: %v", path, err)
	}
	if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP); err == nil {
		unix.Close(fd)
		return // already allowed
	}
	if os.Geteuid() != 0 {
		t.Skip("ping sockets not allowed and not root")
	}
	if err := os.WriteFile(path, []byte("0 2147483647"), 0); err != nil {
		t.Skipf("cannot widen %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, old, 0); err != nil {
			t.Errorf("restore %s: %v", path, err)
		}
	})
}
