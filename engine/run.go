// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
)

// Run runs the loop until ctx is done (it returns nil) or the device fails
// (it returns the error, wrapping tap.ErrClosed and friends). It locks its
// goroutine to the OS thread for its whole duration, and may be called
// once.
func (e *Engine) Run(ctx context.Context) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	wakeFd := e.wakeFd
	stop := context.AfterFunc(ctx, func() { wake(wakeFd) })
	defer stop()

	e.start(monotime())

	var err error
	for err == nil && ctx.Err() == nil {
		next := e.nextTick
		if e.nextStats != 0 {
			next = min(next, e.nextStats)
		}
		timeout := int((next - monotime() + int64(time.Millisecond) - 1) / int64(time.Millisecond))
		err = e.iterate(timeout)
	}
	e.flush()
	e.gather()
	e.publish()
	level := slog.LevelDebug
	if e.statsEvery > 0 {
		level = slog.LevelInfo
	}
	e.log.Log(context.Background(), level, e.line())
	return err
}

// start is wake-up zero: Begin and End on every handler without events,
// so that what a handler sends unprompted at start goes out at once (the
// NDP handler's unsolicited router advertisement, from its first Begin).
// The first Tick comes a TickInterval later, as in every wake-up.
func (e *Engine) start(now int64) {
	e.nextTick = now + int64(flow.TickInterval)
	if e.statsEvery > 0 {
		e.nextStats = now + int64(e.statsEvery)
	}
	e.begin(now)
	e.end(now)
	e.flush()
	e.gather()
	e.publish()
}

// begin calls every handler's Begin: a wake-up starts.
func (e *Engine) begin(now int64) {
	for i := range e.handlers {
		e.handlers[i].h.Begin(now)
	}
}

// tick calls every handler's Tick and sets the next one: a TickInterval
// on or, when every handler is a flow.Sleeper, the earliest time one of
// them names, at most an IdleTickInterval on. An idle engine (no flows,
// no timers) then wakes once a second, not a hundred times.
func (e *Engine) tick(now int64) {
	next := now + int64(flow.IdleTickInterval)
	for i := range e.handlers {
		x := &e.handlers[i]
		x.h.Tick(now)
		if x.sleeper == nil {
			next = now
		} else {
			next = min(next, x.sleeper.NextTick(now))
		}
	}
	e.nextTick = max(next, now+int64(flow.TickInterval))
}

// end calls every handler's End: the wake-up's deferred work.
func (e *Engine) end(now int64) {
	for i := range e.handlers {
		e.handlers[i].h.End(now)
	}
}

// iterate is one turn of the loop: wait at most timeout ms; Begin; handle
// what woke us (wakeup); run timers (Tick) when due; End; flush the
// output.
func (e *Engine) iterate(timeout int) error {
	if timeout < 0 || e.tapMore {
		timeout = 0
	}
	var (
		n   int
		err error
	)
	if e.dedicated && timeout <= int(flow.TickInterval/time.Millisecond) {
		n, err = epollWait(e.epfd, e.events[:], timeout)
	} else {
		n, err = unix.EpollWait(e.epfd, e.events[:], timeout)
	}
	if err != nil && err != unix.EINTR {
		return fmt.Errorf("epoll_wait: %w", err)
	}
	n = max(n, 0)
	now := monotime()
	if n > 0 || e.tapMore {
		// Something happened: Tick within a TickInterval, and the
		// handlers name their timers afresh.
		e.nextTick = min(e.nextTick, now+int64(flow.TickInterval))
	}
	e.begin(now)
	e.wakeup(n, now)
	ticked := now >= e.nextTick
	if ticked {
		e.tick(now)
		if e.dedicated {
			// A new time slice for the runtime's monitor, which would
			// otherwise interrupt the raw wait to preempt the loop.
			runtime.Gosched()
		}
	}
	e.end(now)
	e.flush()
	if ticked {
		e.gather()
		e.reclaim(now)
	}
	e.publish()
	if e.nextStats != 0 && now >= e.nextStats {
		e.log.Info(e.line())
		e.nextStats = now + int64(e.statsEvery)
	}
	if e.devErr != nil {
		return fmt.Errorf("tap device: %w", e.devErr)
	}
	return nil
}

// wakeup handles the n events of one epoll_pwait: the device first, then
// every other fd by its Ref.Kind.
func (e *Engine) wakeup(n int, now int64) {
	e.st.Wakeups++
	events := e.events[:n]
	if e.tapMore {
		// Frames left from the last wake-up: the device may hold them in
		// its own buffer (Stream), where epoll cannot see them.
		e.readTap(now)
	}
	for i := range events {
		ev := &events[i]
		if refOf(ev).Kind != flow.KindTap {
			continue
		}
		if ev.Events&unix.EPOLLOUT != 0 {
			e.tapWritable()
		}
		if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLRDHUP|unix.EPOLLERR) != 0 {
			e.readTap(now)
		}
	}
	for i := range events {
		ev := &events[i]
		ref := refOf(ev)
		switch ref.Kind {
		case flow.KindTap:
			continue
		case flow.KindEngine:
			if int(ref.Fd) == e.wakeFd {
				var b [8]byte
				unix.Read(e.wakeFd, b[:])
			}
			continue
		}
		var h flow.Handler
		if int(ref.Kind) < len(e.byKind) {
			h = e.byKind[ref.Kind]
		}
		if h == nil {
			// Nobody owns it: stop the event from spinning the loop.
			unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, int(ref.Fd), nil)
			continue
		}
		h.HandleSock(ref, ev.Events, now)
	}
}

// readTap reads and dispatches up to maxTapBatches batches of frames. If
// the last batch was full, tapMore makes the next wake-up come at once and
// read again.
func (e *Engine) readTap(now int64) {
	e.tapMore = false
	for range maxTapBatches {
		n, err := e.dev.ReadFrames(e.rxBufs, e.rxSizes)
		var wall int64
		if e.pcap != nil && n > 0 {
			wall = time.Now().UnixNano()
		}
		for i := range n {
			e.handleFrame(e.rxBufs[i][:e.rxSizes[i]], now, wall)
		}
		e.endBatch(now)
		if err != nil {
			if e.devErr == nil {
				e.devErr = err
			}
			return
		}
		if n < len(e.rxBufs) {
			return
		}
	}
	e.tapMore = true
}

// endBatch tells the flow.Batchers that the frames of the batch are
// about to be overwritten.
func (e *Engine) endBatch(now int64) {
	for i := range e.handlers {
		if b := e.handlers[i].batcher; b != nil {
			b.EndBatch(now)
		}
	}
}

// Memory reclaim after a burst of flows (see reclaim).
const (
	// reclaimMinPeak is the fewest flows in use, at the peak, worth a
	// reclaim when most of them are gone.
	reclaimMinPeak = 256
	// reclaimEvery is the shortest time between two reclaims.
	reclaimEvery = int64(time.Second)
)

// reclaim gives the memory of a burst of flows back to the system: when
// the flows of the shared budget in use fell to a quarter of their peak
// (at least reclaimMinPeak; then again at each further quarter, until
// none is left), the handlers have shrunk their tables (the TCP handler
// does when an eighth is in use),
// and an idle engine allocates nothing, so no garbage collection would
// come to free the old tables for minutes: run one and return the free
// pages now (debug.FreeOSMemory, a few milliseconds with the engine's
// small heap), at most once per reclaimEvery. The peak starts again
// from what is in use. Called at a Tick.
func (e *Engine) reclaim(now int64) {
	used := e.budget.Used()
	e.flowsPeak = max(e.flowsPeak, used)
	if e.flowsPeak >= reclaimMinPeak {
		e.burst = true
	}
	if !e.burst || used*4 > e.flowsPeak || now < e.reclaimAt {
		return
	}
	debug.FreeOSMemory()
	e.flowsPeak, e.reclaimAt = used, now+reclaimEvery
	// Again at each further quarter, down to none: the tables shrink
	// on the way down.
	e.burst = used > 0
	e.st.Reclaims++
}

// wake makes epoll_pwait return: Run's context is done.
func wake(fd int) {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	unix.Write(fd, b[:])
}

// monotime returns CLOCK_MONOTONIC in nanoseconds: the "now" handlers get.
// It reads the clock once through the system call, then goes by the Go
// runtime's monotonic clock (the same clock, read through the vDSO): the
// loop asks for the time twice a wake-up, and x/sys's ClockGettime is a
// real system call each time.
func monotime() int64 { return monoBase + int64(time.Since(monoStart)) }

var monoBase, monoStart = func() (int64, time.Time) {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano(), time.Now()
}()
