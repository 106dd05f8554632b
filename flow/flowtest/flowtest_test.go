// SPDX-License-Identifier: GPL-2.0-or-later

package flowtest

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
)

var (
	_ flow.Poller = (*Poller)(nil)
	_ flow.Tap    = (*Tap)(nil)
)

func TestPoller(t *testing.T) {
	p := NewPoller(t)
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	ref := flow.Ref{Kind: flow.KindUDP, Index: 1<<24 - 2, Fd: int32(fds[0])}
	if err := p.Add(fds[0], unix.EPOLLIN, ref); err != nil {
		t.Fatal(err)
	}
	if evs := p.Wait(t, 0); len(evs) != 0 {
		t.Fatalf("events before a write: %v", evs)
	}
	if _, err := unix.Write(fds[1], []byte{1}); err != nil {
		t.Fatal(err)
	}
	evs := p.Wait(t, time.Second)
	if len(evs) != 1 || evs[0].Ref != ref || evs[0].Events&unix.EPOLLIN == 0 {
		t.Fatalf("Wait = %v, want %v with EPOLLIN", evs, ref)
	}
	ref.Index = 7
	if err := p.Mod(fds[0], unix.EPOLLIN, ref); err != nil {
		t.Fatal(err)
	}
	if p.Live[fds[0]] != ref {
		t.Fatalf("Live = %v after Mod, want %v", p.Live, ref)
	}
	if n, err := p.Dispatch(1000, func(r flow.Ref, _ uint32) {
		if r != ref {
			t.Errorf("Dispatch ref %v, want %v", r, ref)
		}
	}); n != 1 || err != nil {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	if err := p.Del(fds[0]); err != nil {
		t.Fatal(err)
	}
	if len(p.Live) != 0 {
		t.Fatalf("Live = %v after Del", p.Live)
	}
	if evs := p.Wait(t, 0); len(evs) != 0 {
		t.Fatalf("events after Del: %v", evs)
	}
	p.Close()
	p.Close()
	if p.Fd != -1 {
		t.Fatalf("Fd = %d after Close", p.Fd)
	}
}

func TestTap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		discard bool
		frames  int
	}{
		{"record", false, 2},
		{"discard", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tap := &Tap{Discard: tc.discard}
			buf := []byte{1, 2}
			tap.Send([][]byte{buf, buf[:1]})
			buf[0] = 9
			if tap.Count != 2 || len(tap.Frames) != tc.frames {
				t.Fatalf("Count %d, %d frames; want 2, %d", tap.Count, len(tap.Frames), tc.frames)
			}
			if !tc.discard && (tap.Frames[0][0] != 1 || len(tap.Frames[1]) != 1) {
				t.Fatalf("frames %v not copies", tap.Frames)
			}
		})
	}
}

func TestPollerAllocs(t *testing.T) {
	p := NewPoller(t)
	p.Live = nil
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	ref := flow.Ref{Kind: flow.KindUDP, Fd: int32(fds[1])}
	seen := 0
	n := testing.AllocsPerRun(100, func() {
		_ = p.Add(fds[1], unix.EPOLLOUT, ref)
		_ = p.Mod(fds[1], unix.EPOLLOUT, ref)
		_, _ = p.Dispatch(0, func(flow.Ref, uint32) { seen++ })
		_ = p.Del(fds[1])
	})
	if n != 0 {
		t.Fatalf("%v allocs per run, want 0", n)
	}
	if seen == 0 {
		t.Fatal("no events dispatched")
	}
}
