// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"gopasst/egress"
	"gopasst/flow"
	"gopasst/policy"
)

// Config is what New needs. Poller belongs to the event loop.
type Config struct {
	Poller flow.Poller
	// Capacity is the size of the connection table, allocated once;
	// 0 means 4096. At most 1<<22.
	Capacity int
	// Listeners are the -T listeners to open inside the namespace: on
	// their address, else on the loopback of each family but those NoV4
	// and NoV6 switch off (-6 and -4: the guest has no such family).
	Listeners  []policy.Listener
	NoV4, NoV6 bool
	// NsSocket creates a socket inside the namespace (netns.Worker.Socket).
	// Required to open listeners.
	NsSocket func(domain, typ, proto int) (int, error)
	// NsConnect creates the namespace side of an adopted connection
	// (netns.Pool.Socket, which makes them in batches); NsSocket if nil.
	NsConnect func(domain, typ, proto int) (int, error)
	// PipeSize caps the size of each pipe in bytes; 0 means 8 MiB. New
	// probes downwards from it until F_SETPIPE_SZ succeeds.
	PipeSize int
	// Gate is the guest's flow policy: a connection it refuses is reset
	// as soon as accepted. Nil: everything allowed.
	Gate *egress.Gate
	// Log receives setup errors, and per-connection events if Trace.
	Log   *slog.Logger
	Trace bool
}

// Counts are what the handler did and refused; Stats gives them to the
// engine in the shape of flow.Stats.
type Counts struct {
	Accepted      uint64 // connections accepted in the namespace
	Adopted       uint64 // host loopback connections taken from -t listeners (Adopt)
	NotLoopback   uint64 // connections closed: source was not loopback
	TableFull     uint64 // connections reset: the table was full
	AcceptPaused  uint64 // times a listener paused for want of fds
	ConnectFailed uint64 // host connects that failed (reset to the client)
	Refused       uint64 // connections reset: refused by the flow policy
	Aborted       uint64 // connections closed with a reset
	Closed        uint64 // connections closed after FIN both ways
	BytesToHost   uint64 // bytes moved from the namespace to the host
	BytesToNs     uint64 // bytes moved from the host to the namespace
}

// Handler relays spliced connections. It implements flow.Handler for
// flow.KindSplice and flow.KindSpliceListen, runs on the event-loop
// goroutine and is unsafe for concurrent use.
type Handler struct {
	flow.Nop // Begin, HandleTap: no frames
	poller   flow.Poller
	nsSocket func(domain, typ, proto int) (int, error)
	nsConn   func(domain, typ, proto int) (int, error) // Config.NsConnect or NsSocket
	log      *slog.Logger
	trace    bool
	noV4     bool // Config.NoV4: listeners on no IPv4 loopback
	noV6     bool // Config.NoV6
	pipeSize int  // bytes set with F_SETPIPE_SZ on every pipe
	gate     *egress.Gate
	now      int64 // monotonic time of the current call

	conns     []conn // dense: conns[:n] are live or closed-pending
	n         int
	live      int
	liveAny   atomic.Int64 // live, for Live from other goroutines
	closed    []int        // slots to compact in End
	listeners []listener
	paused    int // listeners currently paused

	rsa unix.RawSockaddrAny // accept4 target
	sa4 unix.SockaddrInet4  // connect targets, reused
	sa6 unix.SockaddrInet6

	counts Counts
}

// New probes the pipe size, allocates the table and opens cfg.Listeners.
func New(cfg Config) (*Handler, error) {
	if cfg.Poller == nil {
		return nil, errors.New("splice: Poller is required")
	}
	capacity := cfg.Capacity
	if capacity <= 0 {
		capacity = defaultCapacity
	}
	if capacity > maxCapacity {
		return nil, fmt.Errorf("splice: capacity %d above %d", capacity, maxCapacity)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	want := cfg.PipeSize
	if want <= 0 {
		want = maxPipeSize
	}
	h := &Handler{
		poller:   cfg.Poller,
		nsSocket: cfg.NsSocket,
		nsConn:   cfg.NsConnect,
		log:      log,
		trace:    cfg.Trace,
		noV4:     cfg.NoV4,
		noV6:     cfg.NoV6,
		pipeSize: probePipeSize(max(want, minPipeSize)),
		gate:     cfg.Gate,
		conns:    make([]conn, capacity),
		closed:   make([]int, 0, capacity),
	}
	if h.nsConn == nil {
		h.nsConn = h.nsSocket
	}
	for i := range h.conns {
		h.conns[i].reset()
	}
	for _, l := range cfg.Listeners {
		if err := h.Listen(l); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

// PipeSize returns the pipe size in bytes the probe settled on.
func (h *Handler) PipeSize() int { return h.pipeSize }

// Len returns the number of live connections.
func (h *Handler) Len() int { return h.live }

// Live is Len for other goroutines than the event loop's (pasta waits
// for the connections to end after its command exits).
func (h *Handler) Live() int { return int(h.liveAny.Load()) }

// Close closes every listener and resets every connection.
func (h *Handler) Close() {
	for i := range h.listeners {
		h.closeListener(i)
	}
	h.listeners = h.listeners[:0]
	for i := 0; i < h.n; i++ {
		if h.conns[i].ev != 0 {
			h.closeConn(i, true)
		}
	}
	h.compact()
}

// HandleSock handles an event on a listener or a connection's socket.
func (h *Handler) HandleSock(ref flow.Ref, events uint32, now int64) {
	h.now = now
	switch ref.Kind {
	case flow.KindSpliceListen:
		i := int(ref.Index)
		if i < len(h.listeners) && h.listeners[i].fd == int(ref.Fd) {
			h.accept(i, now)
		}
	case flow.KindSplice:
		idx, side := int(ref.Index>>1), int(ref.Index&1)
		if idx >= h.n {
			return
		}
		c := &h.conns[idx]
		if c.ev == 0 || c.sock[side] != ref.Fd {
			return
		}
		h.sockEvent(idx, side, events)
	}
}

// End implements flow.Handler: it compacts the table.
func (h *Handler) End(now int64) { h.compact() }

// Claim implements flow.Handler: spliced connections' sockets and -T
// listeners; no frames (the tap is not involved).
func (h *Handler) Claim() flow.Claim {
	return flow.Claim{
		Name:  "splice",
		Kinds: []flow.Kind{flow.KindSplice, flow.KindSpliceListen},
		Counters: flow.CountersOf(flow.Flows, flow.Opens, flow.Refused, flow.Resets,
			flow.NoBuffer),
	}
}

// Stats implements flow.Handler.
func (h *Handler) Stats() flow.Stats {
	c := &h.counts
	var s flow.Stats
	s[flow.Flows] = uint64(h.live)
	s[flow.Opens] = c.Accepted + c.Adopted
	s[flow.Refused] = c.NotLoopback + c.TableFull + c.ConnectFailed + c.Refused
	s[flow.Resets] = c.Aborted
	s[flow.NoBuffer] = c.AcceptPaused
	return s
}

// Counts returns the handler's own counters.
func (h *Handler) Counts() Counts { return h.counts }

// Tick resumes listeners paused for want of file descriptors.
func (h *Handler) Tick(now int64) {
	h.now = now
	if h.paused == 0 {
		return
	}
	for i := range h.listeners {
		l := &h.listeners[i]
		if l.fd >= 0 && l.pausedUntil != 0 && now >= l.pausedUntil {
			l.pausedUntil = 0
			h.paused--
			_ = h.poller.Mod(l.fd, unix.EPOLLIN, h.listenRef(i))
		}
	}
}

// NextTick implements flow.Sleeper: the earliest end of a listener's
// pause.
func (h *Handler) NextTick(now int64) int64 {
	next := int64(math.MaxInt64)
	if h.paused == 0 {
		return next
	}
	for i := range h.listeners {
		if l := &h.listeners[i]; l.fd >= 0 && l.pausedUntil != 0 {
			next = min(next, l.pausedUntil)
		}
	}
	return next
}

// compact fills the slots of closed connections with the last ones, so the
// table stays dense, and points the moved sockets' epoll references at the
// new slot. Mirrors passt's flow_defer_handler() compaction.
func (h *Handler) compact() {
	if len(h.closed) == 0 {
		return
	}
	slices.Sort(h.closed)
	for i := len(h.closed) - 1; i >= 0; i-- {
		idx := h.closed[i]
		last := h.n - 1
		if idx != last {
			h.conns[idx] = h.conns[last]
			c := &h.conns[idx]
			for side := range 2 {
				if c.inEpoll[side] {
					_ = h.poller.Mod(int(c.sock[side]), c.polled[side], connRef(c, idx, side))
				}
			}
		}
		h.conns[last].reset()
		h.n--
	}
	h.closed = h.closed[:0]
}

// connRef returns the epoll reference of one side of a connection.
func connRef(c *conn, idx, side int) flow.Ref {
	return flow.Ref{Kind: flow.KindSplice, Index: uint32(idx<<1 | side), Fd: c.sock[side]}
}

// probePipeSize returns the largest size, from want halving down to the
// default, that F_SETPIPE_SZ accepts on pipeProbeCount pipes at once, as
// passt's tcp_set_pipe_size().
func probePipeSize(want int) int {
	var fds [pipeProbeCount][2]int
	size := want
	for ; size > minPipeSize; size /= 2 {
		ok, made := true, 0
		for i := range fds {
			if err := unix.Pipe2(fds[i][:], unix.O_CLOEXEC); err != nil {
				break
			}
			made++
			if _, err := unix.FcntlInt(uintptr(fds[i][0]), unix.F_SETPIPE_SZ, size); err != nil {
				ok = false
				break
			}
		}
		for i := range made {
			unix.Close(fds[i][0])
			unix.Close(fds[i][1])
		}
		if ok && made == len(fds) {
			return size
		}
	}
	return minPipeSize
}
