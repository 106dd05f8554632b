// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/l2"
	"gopasst/tap"
)

// everyTick is a handler that is not a flow.Sleeper: it needs a Tick
// every TickInterval.
type everyTick struct{ ticks atomic.Int64 }

func (*everyTick) Claim() flow.Claim                       { return flow.Claim{Name: "every"} }
func (*everyTick) Begin(int64)                             {}
func (*everyTick) HandleSock(flow.Ref, uint32, int64)      {}
func (*everyTick) HandleTap(*l2.Frame, int64) flow.Verdict { return flow.NotForUs }
func (h *everyTick) Tick(int64)                            { h.ticks.Add(1) }
func (*everyTick) End(int64)                               {}
func (*everyTick) Stats() flow.Stats                       { return flow.Stats{} }

// timed is a flow.Sleeper with one timer, at due.
type timed struct {
	flow.Nop
	due   atomic.Int64 // monotonic ns; math.MaxInt64: none
	fired atomic.Int64 // monotonic ns of the first Tick at or after due
}

func (*timed) Claim() flow.Claim { return flow.Claim{Name: "timed"} }
func (h *timed) Tick(now int64) {
	if d := h.due.Load(); now >= d && h.fired.Load() == 0 {
		h.fired.Store(now)
		h.due.Store(math.MaxInt64)
	}
}
func (h *timed) NextTick(int64) int64 { return h.due.Load() }

// TestIdleTicks: an engine whose handlers are all flow.Sleepers with
// nothing due wakes about once an IdleTickInterval, not every
// TickInterval; one handler that is not a Sleeper brings the
// TickInterval back; a Sleeper's timer is run on time, not at the next
// idle tick.
func TestIdleTicks(t *testing.T) {
	const window = 600 * time.Millisecond
	tests := []struct {
		name       string
		every      bool          // add a handler that is not a Sleeper
		timerAfter time.Duration // a Sleeper's timer, this long after start; 0: none
		minWakes   uint64
		maxWakes   uint64
	}{
		{name: "idle", maxWakes: 3},
		{name: "not a sleeper", every: true, minWakes: 30, maxWakes: 1000},
		{name: "timer", timerAfter: 300 * time.Millisecond, maxWakes: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			dev := tap.NewStream(fds[0])
			defer dev.Close()
			defer unix.Close(fds[1])
			n := testNet()
			n.V6 = guest.Family{} // no router advertisement at start
			e, err := New(Config{Net: n, Device: dev})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			addServices(t, e)
			ev := &everyTick{}
			if tc.every {
				if err := e.Add(ev); err != nil {
					t.Fatal(err)
				}
			}
			tm := &timed{}
			tm.due.Store(math.MaxInt64)
			if err := e.Add(tm); err != nil {
				t.Fatal(err)
			}
			start := monotime()
			if tc.timerAfter > 0 {
				tm.due.Store(start + int64(tc.timerAfter))
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.Run(ctx) }()
			time.Sleep(window)
			w := e.Stats().Wakeups
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if w < tc.minWakes || w > tc.maxWakes {
				t.Errorf("%d wake-ups in %v, want %d to %d", w, window, tc.minWakes, tc.maxWakes)
			}
			if tc.every && ev.ticks.Load() < 30 {
				t.Errorf("the handler that is not a Sleeper got %d Ticks in %v", ev.ticks.Load(), window)
			}
			if tc.timerAfter > 0 {
				f := tm.fired.Load()
				late := time.Duration(f - start - int64(tc.timerAfter))
				if f == 0 || late < 0 || late > 50*time.Millisecond {
					t.Errorf("timer due %v after start ran %v late (fired %v)", tc.timerAfter, late, f != 0)
				}
			}
		})
	}
}
