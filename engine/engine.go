// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"

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
	// txSlabSize holds the replies the engine builds itself (ARP, NDP,
	// DHCP, DHCPv6) between two flushes.
	txSlabSize = 256 << 10
	// replySlot is the room reserved for one such reply, headers included.
	replySlot = 8192
)

// TapHandler takes frames from the guest for a protocol whose state lives
// outside the engine (TCP, UDP, ICMP echo). f is valid only during the call:
// its bytes are reused for the next frame.
type TapHandler interface {
	HandleTap(f *l2.Frame, now int64)
}

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
}

// Engine is the event loop. See the package comment. Configure it
// (Register, SetTCP, SetUDP, SetICMP) before Run; after that everything
// runs on Run's goroutine, except Stats.
type Engine struct {
	n     *guest.Net
	dev   tap.Device
	back  tap.Backlogger // dev, if it can hold back a partial frame
	pcap  *pcap.Writer
	log   *slog.Logger
	trace bool

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

	handlers [flow.NumKinds]flow.Handler // by Ref.Kind
	all      []flow.Handler              // each handler once, for Deferred and Tick
	tcp      TapHandler
	udp      TapHandler
	icmp     TapHandler

	rxSlab  []byte
	rxBufs  [][]byte // views of rxSlab, FrameSize each
	rxSizes []int
	frame   l2.Frame

	// Fragments: the guest's are reassembled, frames to it larger than
	// the MTU are fragmented (package frag).
	reasm  *frag.Reassembler
	fragr  frag.Fragmenter
	fragID uint32

	txSlab []byte   // the engine's own replies
	txPos  int      // bytes of txSlab in use
	out    [][]byte // frames queued for the guest; cap maxOut, never grown

	st     Stats
	budget *flow.Budget

	mu  sync.Mutex // guards pub
	pub Stats      // copy of st, published at the end of every wake-up
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
		statsEvery: cfg.StatsEvery,
		budget:     cfg.Budget,
		epfd:       -1,
		wakeFd:     -1,
		rxSlab:     make([]byte, batch*FrameSize),
		rxBufs:     make([][]byte, batch),
		rxSizes:    make([]int, batch),
		txSlab:     make([]byte, txSlabSize),
		out:        make([][]byte, 0, maxOut),
	}
	e.frame.Flags = l2.CheckIPv4Checksum
	e.reasm = frag.New(0, 0)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if b, ok := cfg.Device.(tap.Backlogger); ok {
		e.back = b
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
	if err := e.epollCtl(unix.EPOLL_CTL_ADD, e.wakeFd, unix.EPOLLIN, flow.Ref{Kind: flow.KindStats, Fd: int32(e.wakeFd)}); err != nil {
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

// Register makes h the owner of fds registered with kind: their events go
// to h.HandleSock. h also gets Deferred and Tick calls.
func (e *Engine) Register(kind flow.Kind, h flow.Handler) {
	if int(kind) >= flow.NumKinds || kind == flow.KindTap || kind == flow.KindStats {
		panic(fmt.Sprintf("engine: cannot register a handler for kind %d", kind))
	}
	e.handlers[kind] = h
	e.addHandler(h)
}

// Attach adds a handler that owns no fd of the epoll set, for its Deferred
// and Tick calls only (pasta's auto-forwarding scanner).
func (e *Engine) Attach(h flow.Handler) { e.addHandler(h) }

// addHandler puts h in the Deferred/Tick list once.
func (e *Engine) addHandler(h flow.Handler) {
	if h == nil {
		return
	}
	for _, x := range e.all {
		if x == h {
			return
		}
	}
	e.all = append(e.all, h)
}

// setTapHandler also lists h for Deferred and Tick when it is a
// flow.Handler, so that a handler without fds still gets its timers.
func (e *Engine) setTapHandler(dst *TapHandler, h TapHandler) {
	*dst = h
	if fh, ok := h.(flow.Handler); ok {
		e.addHandler(fh)
	}
}

// SetTCP sets the handler for TCP segments from the guest.
func (e *Engine) SetTCP(h TapHandler) { e.setTapHandler(&e.tcp, h) }

// SetUDP sets the handler for UDP datagrams from the guest other than DHCP
// and DHCPv6.
func (e *Engine) SetUDP(h TapHandler) { e.setTapHandler(&e.udp, h) }

// SetICMP sets the handler for ICMP and ICMPv6 echo requests.
func (e *Engine) SetICMP(h TapHandler) { e.setTapHandler(&e.icmp, h) }

// Poller returns the handlers' view of the epoll set.
func (e *Engine) Poller() flow.Poller { return (*poller)(e) }

// Tap returns the handlers' way to send frames to the guest.
func (e *Engine) Tap() flow.Tap { return (*tapSink)(e) }

// Stats returns the counters as of the end of the last wake-up. It is
// safe to call from any goroutine.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pub
}

// flowCounter is implemented by handlers that can say how many flows they
// hold.
type flowCounter interface{ Len() int }

// publish makes the counters visible to Stats.
func (e *Engine) publish() {
	e.st.FlowsTCP = flowsOf(e.tcp)
	e.st.FlowsUDP = flowsOf(e.udp)
	e.st.FlowsICMP = flowsOf(e.icmp)
	e.st.FlowsUsed, e.st.FlowsMax = uint64(e.budget.Used()), uint64(e.budget.Max())
	e.mu.Lock()
	e.pub = e.st
	e.mu.Unlock()
}

func flowsOf(h TapHandler) uint64 {
	if c, ok := h.(flowCounter); ok {
		return uint64(c.Len())
	}
	return 0
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
