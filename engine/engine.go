// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/egress"
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/pcap"
	"gopasst/proto/frag"
	"gopasst/proto/l2"
	"gopasst/tap"
)

// Implementation limits.
const (
	// FrameSize is the size of each receive buffer: the largest tap frame
	// (MTU 65535 plus Ethernet and a VLAN tag) rounded up.
	FrameSize = 65536 + 64
	// DefaultBatch is the number of receive buffers, the most frames read
	// per ReadFrames (passt TAP_MSGS, wireguard-go IdealBatchSize).
	DefaultBatch = 128
	// maxTapBatches bounds the ReadFrames calls per wake-up, so that a busy
	// guest cannot starve the sockets; epoll is level-triggered and comes
	// back for the rest.
	maxTapBatches = 4
	// maxEvents is the size of the epoll event array.
	maxEvents = 256
	// maxOut is how many frames towards the guest are queued before a
	// flush is forced in the middle of a wake-up.
	maxOut = 1024
)

// Config configures an Engine.
type Config struct {
	Net    *guest.Net   // what the guest is told; the engine writes its learned fields
	Device tap.Device   // the guest's end; the caller keeps ownership (Run does not close it)
	Pcap   *pcap.Writer // capture of every frame in both directions; nil: none
	Log    *slog.Logger // nil: discard
	// Trace logs every dropped frame and every reply at debug level
	// (passt --trace). It allocates; leave it off in production.
	Trace bool
	// StatsEvery is the interval of the stats line (passt --stats); 0: only
	// at exit, at debug level.
	StatsEvery time.Duration
	// Batch is the number of receive buffers; 0: DefaultBatch.
	Batch int
	// Budget is the flow capacity the TCP, UDP and ICMP handlers share
	// (give the same one to each); the stats line reports its use. Nil:
	// not reported.
	Budget *flow.Budget
	// Gate is the guest's flow policy the handlers share; the stats line
	// reports its denials, limits and lost audit events. Nil: zeros.
	Gate *egress.Gate
	// Dedicated says the loop is the only busy goroutine of its process
	// (the daemons): it then waits in a raw system call and yields to
	// the runtime once a tick (see epollWait). Leave it off where other
	// goroutines must run while the loop waits (tests): they get the
	// other Ps, or, with a single P, a turn only at the loop's ticks.
	Dedicated bool
}

// MaxHandlers is the most handlers one engine takes (Add).
const MaxHandlers = 16

// entry is an added handler and what it claimed.
type entry struct {
	h       flow.Handler
	claim   flow.Claim
	sleeper flow.Sleeper // h, if it is one
	batcher flow.Batcher // h, if it is one
}

// Engine is the event loop. See the package comment. Add its handlers
// before Run; after that everything runs on Run's goroutine, except
// Stats.
type Engine struct {
	n         *guest.Net
	dev       tap.Device
	back      tap.Backlogger // dev, if it can hold back a partial frame
	pcap      *pcap.Writer
	log       *slog.Logger
	trace     bool
	dedicated bool // Config.Dedicated

	statsEvery time.Duration
	nextTick   int64 // monotonic ns of the next Tick
	nextStats  int64 // monotonic ns of the next stats line; 0: none

	epfd     int
	wakeFd   int                        // eventfd: Run's context is done
	events   [maxEvents]unix.EpollEvent // filled by epoll_pwait
	ctlEvent unix.EpollEvent            // argument of epoll_ctl, kept here so it does not escape
	tapOut   bool                       // EPOLLOUT requested on the device
	tapMore  bool                       // the last read filled every batch: read again without waiting
	devErr   error                      // the device failed: Run returns it

	handlers []entry                            // in the order of Add; cap MaxHandlers
	byKind   [flow.NumKinds]flow.Handler        // owner of each Ref.Kind
	byFrame  [flow.NumFrameClasses]flow.Handler // owner of each frame class
	counted  tap.Counted                        // dev, if it counts its losses
	off      tap.Offloader                      // dev, if it takes segment frames (tap offloads)
	maxSeg   int                                // off.MaxSegment(); 0: no segment frames

	rxSlab  []byte
	rxBufs  [][]byte // views of rxSlab, FrameSize each
	rxSizes []int
	frame   l2.Frame

	// Fragments: the guest's are reassembled, frames to it larger than
	// the MTU are fragmented into fragSlab (package frag).
	reasm    *frag.Reassembler
	fragr    frag.Fragmenter
	fragID   uint32
	fragSlab []byte
	fragPos  int // bytes of fragSlab queued; reset by flush

	out      [][]byte   // frames queued for the guest; cap maxOut, never grown
	outSeg   []uint16   // beside out: the MSS of a segment frame (SendSegments), else 0
	outBytes int        // bytes in out
	roomer   tap.Roomer // dev, if its room comes and goes with the guest
	lender   tap.Lender // dev, if it lends the guest's receive buffers

	st     Stats
	budget *flow.Budget
	// flowsPeak is the most flows of the budget in use since the last
	// reclaim; reclaimAt the earliest monotonic ns of the next one; burst
	// whether a burst of flows is going away (see reclaim).
	flowsPeak int
	reclaimAt int64
	burst     bool
	gate      *egress.Gate

	hst [MaxHandlers]HandlerStats // each handler's counters, as of the last gather

	mu   sync.Mutex                // guards pub and pubH
	pub  Stats                     // copy of st, published at the end of every wake-up
	pubH [MaxHandlers]HandlerStats // copy of hst, published by gather
}

// New creates the epoll set, registers cfg.Device with it, and allocates
// every buffer the loop will use.
func New(cfg Config) (*Engine, error) {
	if cfg.Net == nil || cfg.Device == nil {
		return nil, errors.New("engine: Config.Net and Config.Device are required")
	}
	batch := cfg.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	e := &Engine{
		n:          cfg.Net,
		dev:        cfg.Device,
		pcap:       cfg.Pcap,
		log:        cfg.Log,
		trace:      cfg.Trace,
		dedicated:  cfg.Dedicated,
		statsEvery: cfg.StatsEvery,
		budget:     cfg.Budget,
		gate:       cfg.Gate,
		epfd:       -1,
		wakeFd:     -1,
		rxSlab:     make([]byte, batch*FrameSize),
		rxBufs:     make([][]byte, batch),
		rxSizes:    make([]int, batch),
		handlers:   make([]entry, 0, MaxHandlers),
		out:        make([][]byte, 0, maxOut),
		outSeg:     make([]uint16, 0, maxOut),
		fragSlab:   make([]byte, fragSlabSize),
	}
	e.frame.Flags = l2.CheckIPv4Checksum
	e.reasm = frag.New(0, 0)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.roomer, _ = cfg.Device.(tap.Roomer)
	e.lender, _ = cfg.Device.(tap.Lender)
	if b, ok := cfg.Device.(tap.Backlogger); ok {
		e.back = b
	}
	e.counted, _ = cfg.Device.(tap.Counted)
	if o, ok := cfg.Device.(tap.Offloader); ok {
		e.off, e.maxSeg = o, o.MaxSegment()
		// A capture shows what the guest sees: correct checksums.
		o.CompleteChecksums(cfg.Pcap != nil)
	}
	for i := range e.rxBufs {
		e.rxBufs[i] = e.rxSlab[i*FrameSize : (i+1)*FrameSize : (i+1)*FrameSize]
	}
	var err error
	if e.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if e.wakeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		e.Close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := e.epollCtl(unix.EPOLL_CTL_ADD, e.wakeFd, unix.EPOLLIN, flow.Ref{Kind: flow.KindEngine, Fd: int32(e.wakeFd)}); err != nil {
		e.Close()
		return nil, fmt.Errorf("epoll_ctl add eventfd: %w", err)
	}
	fd := cfg.Device.Fd()
	if err := e.epollCtl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN|unix.EPOLLRDHUP, flow.Ref{Kind: flow.KindTap, Fd: int32(fd)}); err != nil {
		e.Close()
		return nil, fmt.Errorf("epoll_ctl add tap fd %d: %w", fd, err)
	}
	return e, nil
}

// Close releases the epoll set and the eventfd. The device is the caller's.
func (e *Engine) Close() error {
	var err error
	if e.epfd >= 0 {
		err = unix.Close(e.epfd)
		e.epfd = -1
	}
	if e.wakeFd >= 0 {
		unix.Close(e.wakeFd)
		e.wakeFd = -1
	}
	return err
}

// Add gives h to the engine, which reads its Claim once: events of fds
// registered with one of its Kinds go to h.HandleSock, frames from the
// guest of one of its Frames classes to h.HandleTap, and h gets Begin,
// Tick, End and Stats calls (see flow.Handler), in the order handlers
// were added. A kind or class already claimed, an engine kind, or more
// than MaxHandlers handlers is an error. Add before Run.
func (e *Engine) Add(h flow.Handler) error {
	if h == nil {
		return errors.New("engine: nil handler")
	}
	c := h.Claim()
	if len(e.handlers) == MaxHandlers {
		return fmt.Errorf("engine: handler %q: more than %d handlers", c.Name, MaxHandlers)
	}
	for _, x := range e.handlers {
		if x.h == h || x.claim.Name == c.Name {
			return fmt.Errorf("engine: handler %q added twice", c.Name)
		}
	}
	for _, k := range c.Kinds {
		switch {
		case k == 0 || int(k) >= flow.NumKinds || k == flow.KindTap || k == flow.KindEngine:
			return fmt.Errorf("engine: handler %q cannot own kind %d", c.Name, k)
		case e.byKind[k] != nil:
			return fmt.Errorf("engine: handler %q: kind %d already owned", c.Name, k)
		}
	}
	for fc := range flow.NumFrameClasses {
		if c.Frames.Has(fc) && e.byFrame[fc] != nil {
			return fmt.Errorf("engine: handler %q: %s frames already taken", c.Name, fc)
		}
	}
	for _, k := range c.Kinds {
		e.byKind[k] = h
	}
	for fc := range flow.NumFrameClasses {
		if c.Frames.Has(fc) {
			e.byFrame[fc] = h
		}
	}
	s, _ := h.(flow.Sleeper)
	b, _ := h.(flow.Batcher)
	e.handlers = append(e.handlers, entry{h: h, claim: c, sleeper: s, batcher: b})
	e.hst[len(e.handlers)-1] = HandlerStats{Name: c.Name, Frames: c.Frames, Counters: c.Counters}
	e.pubH = e.hst
	return nil
}

// Poller returns the handlers' view of the epoll set.
func (e *Engine) Poller() flow.Poller { return (*poller)(e) }

// Tap returns the handlers' way to send frames to the guest.
func (e *Engine) Tap() flow.Tap { return (*tapSink)(e) }

// Stats returns the engine's counters as of the end of the last wake-up,
// and the handlers' as of the last Tick. It is safe to call from any
// goroutine (it allocates the Handlers slice).
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.pub
	s.Handlers = make([]HandlerStats, 0, MaxHandlers)
	for _, h := range e.pubH {
		if h.Name == "" {
			break
		}
		s.Handlers = append(s.Handlers, h)
	}
	return s
}

// gather reads every handler's counters and the device's into e.st: at
// each Tick and when Run ends, never per packet.
func (e *Engine) gather() {
	e.st.FlowsTCP, e.st.FlowsUDP, e.st.FlowsICMP = 0, 0, 0
	e.st.Service[SvcRA] = 0
	for i := range e.handlers {
		x := &e.handlers[i]
		hs := &e.hst[i]
		hs.Stats = x.h.Stats()
		switch f := x.claim.Frames; {
		case f.Has(flow.FrameTCP):
			e.st.FlowsTCP = hs.Stats[flow.Flows]
		case f.Has(flow.FrameUDP):
			e.st.FlowsUDP = hs.Stats[flow.Flows]
		case f.Has(flow.FrameEcho):
			e.st.FlowsICMP = hs.Stats[flow.Flows]
		}
		e.st.Service[SvcRA] += hs.Stats[flow.Unsolicited]
	}
	if e.counted != nil {
		e.st.Tap = e.counted.Counters()
	}
	e.mu.Lock()
	e.pubH = e.hst
	e.mu.Unlock()
}

// line returns the stats line of the counters as they are now, handlers'
// as of the last gather.
func (e *Engine) line() string {
	s := e.st
	s.Handlers = e.hst[:len(e.handlers)]
	return s.Line()
}

// publish makes the counters visible to Stats.
func (e *Engine) publish() {
	e.st.FlowsUsed, e.st.FlowsMax = uint64(e.budget.Used()), uint64(e.budget.Max())
	gs := e.gate.Stats()
	e.st.Denied, e.st.Limited, e.st.AuditDropped = gs.Denied, gs.Limited, e.gate.AuditDropped()
	e.mu.Lock()
	e.pub = e.st
	e.mu.Unlock()
}

// poller implements flow.Poller on the engine's epoll set.
type poller Engine

func (p *poller) Add(fd int, events uint32, ref flow.Ref) error {
	return (*Engine)(p).epollCtl(unix.EPOLL_CTL_ADD, fd, events, ref)
}

func (p *poller) Mod(fd int, events uint32, ref flow.Ref) error {
	return (*Engine)(p).epollCtl(unix.EPOLL_CTL_MOD, fd, events, ref)
}

func (p *poller) Del(fd int) error {
	return (*Engine)(p).epollCtl(unix.EPOLL_CTL_DEL, fd, 0, flow.Ref{})
}

// epollCtl calls epoll_ctl with the Ref packed into the event data. The
// event lives in the Engine, so nothing escapes and nothing is allocated.
func (e *Engine) epollCtl(op, fd int, events uint32, ref flow.Ref) error {
	v := ref.Pack()
	e.ctlEvent = unix.EpollEvent{Events: events, Fd: int32(uint32(v)), Pad: int32(uint32(v >> 32))}
	return unix.EpollCtl(e.epfd, op, fd, &e.ctlEvent)
}

// refOf unpacks the Ref from an epoll event.
func refOf(ev *unix.EpollEvent) flow.Ref {
	return flow.Unpack(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
}
