// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/egress"
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/policy"
)

// Config is what New needs. Net, Poller and Tap belong to the event loop.
type Config struct {
	Net    *guest.Net
	Poller flow.Poller
	Tap    flow.Tap
	// Capacity is the most connections the table holds. It starts
	// small and doubles when full (so an idle handler stays small), up
	// to Capacity. 0: the size of Budget, or maxCapacity without one.
	// At most maxCapacity (1<<17, within flow.MaxIndex).
	Capacity int
	// Budget is the flow capacity shared with the engine's other handlers:
	// a connection also takes a unit of it. Nil: no shared limit.
	Budget *flow.Budget
	// Inbound are the -t listeners: sockets in the host's netns whose
	// connections are forwarded to the guest. (pasta's -T listeners are
	// proto/splice's.)
	Inbound []policy.Listener
	// Prebound, if not empty, are listening sockets for Inbound, in its
	// order, bound by the caller with BindInbound (passt's launcher,
	// before the sandbox: ports below 1024, and failures reported at
	// start). The handler polls them and never closes them, so that they
	// outlive it.
	Prebound []int
	// Splice, if set (pasta, unless --no-splice), takes connections
	// accepted on a -t listener with no target address from a loopback
	// client: they go socket to socket into the namespace (see
	// fwd.SpliceDestination) instead of through the tap.
	Splice Splicer
	// HostLoToNsLo is --host-lo-to-ns-lo: spliced connections go to the
	// namespace's loopback, not its address.
	HostLoToNsLo bool
	// Gate is the guest's flow policy (egress rules, limits, audit log):
	// a SYN it refuses is answered with a RST. Nil: everything allowed.
	Gate *egress.Gate
	// Log receives setup errors and, if Trace, per-connection events.
	Log   *slog.Logger
	Trace bool
	// NoPeekOffset: peek without SO_PEEK_OFF even where the kernel has
	// it, as on kernels before 6.10 (Debian 12's 6.1), so that a newer
	// kernel tests that path (PeekOffsetEnv).
	NoPeekOffset bool
}

// Splicer takes over a connection accepted in the host's namespace and
// relays it to dst inside the guest's namespace (proto/splice.Handler).
// It owns fd from the call on, whatever it returns; false means the
// connection was refused.
type Splicer interface {
	Adopt(fd int, dst netip.AddrPort) bool
}

// Counts are what the handler did and dropped; Stats gives them to the
// engine in the shape of flow.Stats.
type Counts struct {
	Opens         uint64 // connections opened, both directions
	Refused       uint64 // connections refused: table or budget full, host connect failed, no host destination, flow policy
	Resets        uint64 // RSTs sent to the guest
	BadSegments   uint64 // segments from the guest that were malformed
	NoConn        uint64 // segments for no connection (answered with RST)
	TableFull     uint64 // connections refused because the table or the budget was full
	OutOfOrder    uint64 // segments from the guest ahead of the expected sequence
	ShortWrites   uint64 // socket writes that took less than the segment
	DupAckRewinds uint64 // retransmissions started by duplicate ACKs
	Timeouts      uint64 // retransmissions started by the ACK timer
	FramesShort   uint64 // times a connection had to wait for the next wake-up for frames
	Flushes       uint64 // mid-wake-up tap flushes to reuse the frame buffers
	Lent          uint64 // data frames built in the guest's receive buffers (flow.Lender)
	CtlDropped    uint64 // control frames dropped for want of a buffer
	PolicyRefused uint64 // SYNs refused by the flow policy (egress rule or limit), answered with RST; also in Refused
}

// Handler is the TCP translator. It runs on the event-loop goroutine and is
// unsafe for concurrent use.
type Handler struct {
	net    *guest.Net
	poller flow.Poller
	tap    flow.Tap
	log    *slog.Logger
	trace  bool
	gate   *egress.Gate

	flusher flow.Flusher   // tap, if it can be flushed mid-wake-up
	roomer  flow.Roomer    // tap, if it knows how much the guest takes now
	seg     flow.Segmenter // tap, if its device takes segments larger than the MTU; else nil
	lender  flow.Lender    // tap, if its device lends the guest's receive buffers (with seg)
	maxSeg  int            // seg.MaxSegment(): the longest IP packet of a data frame then
	splice  Splicer        // loopback clients of -t listeners; nil: through the tap
	loToLo  bool           // --host-lo-to-ns-lo

	tab          table
	listeners    []listener
	fr           frames
	lend         lendBufs // with lender
	isnSeed      maphash.Seed
	peekOff      bool                  // SO_PEEK_OFF works on TCP sockets
	mtu          int                   // tap MTU
	dirty        []int                 // connections to visit in End
	closed       []int                 // slots to compact in End
	pending      int                   // connections with flPending
	nextCheck    int64                 // earliest deadline of any connection
	now          int64                 // monotonic time of the current wake-up (Begin)
	scratch      int32                 // getsockopt/ioctl result
	wq           writeQueue            // payloads gathered for one sendmsg (writeq.go)
	sndbufUsable uint32                // usable send buffer of the socket windowToTap read last
	wndLow       uint32                // window under which that socket is not writable (checkLowWindow)
	meminfo      [memInfoVars * 4]byte // SO_MEMINFO of that socket
	rsa          unix.RawSockaddrAny
	ccBuf        [16]byte // TCP_CONGESTION name (localCC)
	discardB     []byte   // peek target for bytes already sent without SO_PEEK_OFF

	counts Counts
}

// listener is a listening socket and where its connections go.
type listener struct {
	fd       int
	toPort   uint16
	toAddr   netip.Addr
	borrowed bool // Config.Prebound: not ours to close
}

// New opens the listening sockets and allocates the table and the frames.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Poller == nil || cfg.Tap == nil {
		return nil, errors.New("tcp: Net, Poller and Tap are required")
	}
	capacity := cfg.Capacity
	if capacity <= 0 {
		capacity = cfg.Budget.Max() // 0 without a budget
	}
	if capacity <= 0 {
		capacity = maxCapacity
	}
	if capacity > maxCapacity {
		return nil, fmt.Errorf("tcp: capacity %d above %d", capacity, maxCapacity)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mtu := cfg.Net.MTU
	if mtu <= 0 {
		mtu = defaultMTU
	}
	mtu = min(max(mtu, 576), 65535)
	h := &Handler{
		net:     cfg.Net,
		poller:  cfg.Poller,
		tap:     cfg.Tap,
		log:     log,
		trace:   cfg.Trace,
		tab:     newTable(capacity),
		isnSeed: maphash.MakeSeed(),
		mtu:     mtu,
		dirty:   make([]int, 0, initialCapacity),
		closed:  make([]int, 0, initialCapacity),
	}
	h.tab.budget = cfg.Budget
	h.gate = cfg.Gate
	h.splice, h.loToLo = cfg.Splice, cfg.HostLoToNsLo
	h.flusher, _ = cfg.Tap.(flow.Flusher)
	h.roomer, _ = cfg.Tap.(flow.Roomer)
	if sg, ok := cfg.Tap.(flow.Segmenter); ok && sg.MaxSegment() >= mtu {
		h.seg, h.maxSeg = sg, min(sg.MaxSegment(), 0xffff)
	}
	h.fr.init(max(mtu, h.maxSeg))
	if l, ok := cfg.Tap.(flow.Lender); ok && h.seg != nil {
		h.lender = l
		h.lend.init()
	}
	h.usePeekOffset(!cfg.NoPeekOffset && probePeekOff())
	if cfg.NoPeekOffset && h.log != nil {
		h.log.Info("tcp: peeking without SO_PEEK_OFF, as before Linux 6.10", "env", PeekOffsetEnv)
	}
	if len(cfg.Prebound) > 0 && len(cfg.Prebound) != len(cfg.Inbound) {
		return nil, fmt.Errorf("tcp: %d prebound sockets for %d listeners", len(cfg.Prebound), len(cfg.Inbound))
	}
	for i, l := range cfg.Inbound {
		pre := -1
		if len(cfg.Prebound) > 0 {
			pre = cfg.Prebound[i]
		}
		if err := h.listen(l, i, pre); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

// addConn takes a slot in the table for a new connection (see table.add)
// and keeps the per-wake-up lists as long as the table, so that appending
// to them never allocates.
func (h *Handler) addConn(local, peer netip.AddrPort) int {
	idx := h.tab.add(local, peer)
	if c := len(h.tab.conns); cap(h.dirty) < c {
		h.dirty = append(make([]int, 0, c), h.dirty...)
		h.closed = append(make([]int, 0, c), h.closed...)
	}
	return idx
}

// Cap returns the size of the connection table now; it grows up to
// Config.Capacity.
func (h *Handler) Cap() int { return len(h.tab.conns) }

// Len returns the number of live connections.
func (h *Handler) Len() int { return h.tab.live }

// Close closes every socket: listeners and connections (with a reset).
func (h *Handler) Close() {
	for _, l := range h.listeners {
		_ = h.poller.Del(l.fd)
		if !l.borrowed {
			unix.Close(l.fd)
		}
	}
	h.listeners = nil
	for i := 0; i < h.tab.n; i++ {
		c := &h.tab.conns[i]
		if c.ev != 0 {
			h.closeConn(i, true)
		}
	}
	h.compact()
}

// probePeekOff reports whether SO_PEEK_OFF is accepted on TCP sockets
// (Linux 6.10 and later; older kernels return EINVAL... or ignore it).
func probePeekOff() bool {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0) == nil
}

// usePeekOffset sets whether peeks start past the bytes in flight
// (SO_PEEK_OFF); without, they copy those bytes into the discard buffer.
func (h *Handler) usePeekOffset(on bool) {
	h.peekOff = on
	if !on && h.discardB == nil {
		h.discardB = make([]byte, discardWindow)
	}
}

// Claim implements flow.Handler: TCP frames, connection and -t listening
// sockets.
func (h *Handler) Claim() flow.Claim {
	return flow.Claim{
		Name:   "tcp",
		Kinds:  []flow.Kind{flow.KindTCP, flow.KindTCPListen},
		Frames: flow.FramesOf(flow.FrameTCP),
		Counters: flow.CountersOf(flow.Flows, flow.Opens, flow.Refused, flow.Resets,
			flow.Retrans, flow.OutOfOrder, flow.ShortWrites, flow.Timeouts,
			flow.NoBuffer, flow.Flushes, flow.Lent, flow.DropMalformed, flow.DropNoFlow,
			flow.DropNoBuffer),
	}
}

// Stats implements flow.Handler.
func (h *Handler) Stats() flow.Stats {
	c := &h.counts
	var s flow.Stats
	s[flow.Flows] = uint64(h.tab.live)
	s[flow.Opens] = c.Opens
	s[flow.Refused] = c.Refused
	s[flow.Resets] = c.Resets
	s[flow.Retrans] = c.DupAckRewinds + c.Timeouts
	s[flow.OutOfOrder] = c.OutOfOrder
	s[flow.ShortWrites] = c.ShortWrites
	s[flow.Timeouts] = c.Timeouts
	s[flow.NoBuffer] = c.FramesShort
	s[flow.Flushes] = c.Flushes
	s[flow.Lent] = c.Lent
	s[flow.DropMalformed] = c.BadSegments
	s[flow.DropNoFlow] = c.NoConn
	s[flow.DropNoBuffer] = c.CtlDropped
	return s
}

// Counts returns the handler's own counters.
func (h *Handler) Counts() Counts { return h.counts }

// Begin implements flow.Handler: the frames used in the last wake-up are
// free again, and connections that ran out of them get another turn.
func (h *Handler) Begin(now int64) {
	h.now = now
	h.fr.reset()
	if h.pending == 0 {
		return
	}
	h.pending = 0
	for i := 0; i < h.tab.n; i++ {
		c := &h.tab.conns[i]
		if c.fl&flPending != 0 {
			c.fl &^= flPending
			if c.ev != 0 {
				h.sockToTap(i, now)
			}
		}
	}
}

// markDirty queues the connection for End.
func (h *Handler) markDirty(idx int) {
	c := &h.tab.conns[idx]
	if c.fl&flDirty == 0 {
		c.fl |= flDirty
		h.dirty = append(h.dirty, idx)
	}
}

// End implements flow.Handler: it sends the ACKs and window updates due,
// then compacts the table. Frames handed to the tap are free after the
// engine's flush that follows.
func (h *Handler) End(now int64) { h.settle(now) }

// settle sends the ACKs due on the dirty connections, re-arms their timers
// and compacts the table.
func (h *Handler) settle(now int64) {
	h.flushWrites()
	for _, idx := range h.dirty {
		c := &h.tab.conns[idx]
		c.fl &^= flDirty
		if c.ev == 0 {
			continue
		}
		if c.fl&flAckToTapDue != 0 {
			h.sendAck(idx, now)
		}
		h.rearm(c, now)
	}
	h.dirty = h.dirty[:0]
	h.compact()
}

// closeConn closes the host socket (with a reset if abort) and removes the
// connection from the hash; its slot is reclaimed by compact.
func (h *Handler) closeConn(idx int, abort bool) {
	c := &h.tab.conns[idx]
	if c.ev == 0 {
		return
	}
	if h.trace {
		h.log.Debug("tcp: close", "idx", idx, "local", c.local, "peer", c.peer, "events", c.ev.String(), "abort", abort)
	}
	h.dropWrites(idx)
	if c.sock >= 0 {
		_ = h.poller.Del(c.sock)
		if abort {
			_ = unix.SetsockoptLinger(c.sock, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		}
		unix.Close(c.sock)
		c.sock = -1
	}
	if c.gated {
		dir := audit.Outbound
		if c.inbound {
			dir = audit.Inbound
		}
		h.gate.Close(policy.ProtoTCP, dir, c.local, c.host, c.created, h.now, c.bytesFromTap, c.bytesToTap)
		c.gated = false
	}
	h.tab.unhash(idx)
	c.ev = 0
	c.fl &^= flPending
	h.tab.live--
	h.tab.budget.Give()
	h.closed = append(h.closed, idx)
}

// compact fills the slots of closed connections with the last ones, so the
// table stays dense, and points their epoll references at the new index.
func (h *Handler) compact() {
	if len(h.closed) == 0 {
		return
	}
	// Highest first: every slot above the one being filled is then live.
	cl := h.closed
	for i := 1; i < len(cl); i++ {
		for j := i; j > 0 && cl[j] > cl[j-1]; j-- {
			cl[j], cl[j-1] = cl[j-1], cl[j]
		}
	}
	t := &h.tab
	for _, idx := range cl {
		if t.compact(idx) >= 0 {
			c := &t.conns[idx]
			if c.sock >= 0 {
				_ = h.poller.Mod(c.sock, h.sockEvents(c), h.ref(c, idx))
			}
		}
	}
	h.closed = h.closed[:0]
	if t.shrink() {
		// The per-wake-up lists follow the table (addConn grows them).
		h.dirty = append(make([]int, 0, len(t.conns)), h.dirty...)
		h.closed = make([]int, 0, len(t.conns))
	}
}

// ref returns the epoll reference of a connection's socket.
func (h *Handler) ref(c *conn, idx int) flow.Ref {
	return flow.Ref{Kind: flow.KindTCP, Index: uint32(idx), Fd: int32(c.sock)}
}

// sockEvents returns the epoll interest for a connection's socket.
// EPOLLIN is edge-triggered: data stays queued until the guest acknowledges
// it, so a level-triggered EPOLLIN would fire until then.
func (h *Handler) sockEvents(c *conn) uint32 {
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET)
	if c.fl&flPollOut != 0 {
		ev |= unix.EPOLLOUT
	}
	return ev
}

// setPollOut adds or removes EPOLLOUT from the socket's interest.
func (h *Handler) setPollOut(idx int, on bool) {
	c := &h.tab.conns[idx]
	if (c.fl&flPollOut != 0) == on {
		return
	}
	if on {
		c.fl |= flPollOut
	} else {
		c.fl &^= flPollOut
	}
	_ = h.poller.Mod(c.sock, h.sockEvents(c), h.ref(c, idx))
}

// armPollOut puts EPOLLOUT in the socket's interest with epoll_ctl, also
// when it is there already: the poll that epoll_ctl makes marks a full
// socket so that TCP signals write space again (see checkLowWindow).
func (h *Handler) armPollOut(idx int) {
	h.tab.conns[idx].fl &^= flPollOut // so that setPollOut calls epoll_ctl
	h.setPollOut(idx, true)
}

// isn returns an initial sequence number for a connection, RFC 6528 style:
// a keyed hash of the addresses plus a clock ticking every 4 µs.
func (h *Handler) isn(local, peer netip.AddrPort, now int64) seqnum {
	var k [36]byte
	a, b := local.Addr().As16(), peer.Addr().As16()
	copy(k[0:], a[:])
	copy(k[16:], b[:])
	k[32], k[33] = byte(local.Port()>>8), byte(local.Port())
	k[34], k[35] = byte(peer.Port()>>8), byte(peer.Port())
	return seqnum(uint32(maphash.Bytes(h.isnSeed, k[:])) + uint32(now>>12))
}
