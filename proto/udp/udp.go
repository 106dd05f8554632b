// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/egress"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/guest"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// Config configures a Handler.
type Config struct {
	Net    *guest.Net  // the guest's view of the network; its mapping methods translate addresses
	Poller flow.Poller // flow sockets register as flow.KindUDP, listeners as flow.KindUDPListen
	Tap    flow.Tap    // frames towards the guest

	// Capacity is the flow table size, fixed and allocated once; at most
	// flow.MaxIndex+1. Zero means DefaultCapacity.
	Capacity int
	// Budget is the flow capacity shared with the other handlers of the
	// engine: a new flow needs a unit of it too. Nil: no shared limit.
	Budget *flow.Budget

	// Inbound (-u) are sockets bound in the host's namespace; a datagram
	// to one goes to the guest with its source address and port
	// preserved (mapped through fwd.GuestSource).
	Inbound []policy.Listener
	// Prebound, if not empty, are the bound sockets of Inbound, in its
	// order, made with BindInbound by the caller (passt's launcher,
	// before the sandbox). The handler never closes them.
	Prebound []int
	// NsInbound (pasta -U) are sockets bound inside the namespace with
	// NsSocket, on its loopback unless Bind is given; a datagram to one
	// is sent to the host's loopback (or ToAddr), port ToPort.
	NsInbound []policy.Listener
	// NsSocket opens a socket inside the namespace; nil in passt mode,
	// where NsInbound must be empty.
	NsSocket func(domain, typ, proto int) (int, error)
	// NsConnect opens the namespace socket of a flow spliced from the
	// host's loopback (netns.Pool.Socket, which makes them in batches);
	// NsSocket if nil.
	NsConnect func(domain, typ, proto int) (int, error)
	// SpliceLoopback (pasta, unless --no-splice; needs NsSocket): a
	// datagram from the host's loopback to a -u listener with no target
	// address goes to the namespace socket to socket (see
	// fwd.SpliceDestination), not through the tap; HostLoToNsLo is
	// --host-lo-to-ns-lo.
	SpliceLoopback, HostLoToNsLo bool

	// Timeout and StreamTimeout are the flow timeouts before and after a
	// datagram came back. Zero: read nf_conntrack_udp_timeout and
	// nf_conntrack_udp_timeout_stream, else DefaultTimeout and
	// DefaultStreamTimeout.
	Timeout, StreamTimeout time.Duration
	// Batch is the number of frame buffers (and the recvmmsg/sendmmsg
	// batch size); zero means DefaultBatch.
	Batch int

	// Gate is the guest's flow policy (egress rules, limits, audit log);
	// a datagram opening a flow it refuses is answered with ICMP
	// "administratively prohibited". Nil: everything allowed.
	Gate *egress.Gate

	Log *slog.Logger // setup warnings; nil discards
}

// hostMapper maps a guest-visible destination to the host's; guest.Net
// implements it. Tests replace it so that nothing reaches the network.
type hostMapper interface {
	HostDestination(dst netip.Addr, port uint16, udp bool) (netip.Addr, uint16)
}

// listener is a socket bound for -u (in the host's namespace) or -U
// (inside the target namespace).
type listener struct {
	fd     int32
	v6     bool       // AF_INET6 socket (dual-stack when bound to ::)
	ns     bool       // -U: flows are spliced to the host
	port   uint16     // bound port
	toPort uint16     // destination port on the other side
	toAddr netip.Addr // destination address; invalid: the guest's (-u) or loopback (-U)
	// borrowed: from Config.Prebound, not ours to close
	borrowed bool
}

// Handler translates the guest's UDP datagrams to host sockets and back.
// See the package comment. Not safe for concurrent use.
type Handler struct {
	flow.Nop // Begin
	n        *guest.Net
	poller   flow.Poller
	tap      flow.Tap
	mapper   hostMapper
	nsSock   func(domain, typ, proto int) (int, error)
	nsConn   func(domain, typ, proto int) (int, error) // Config.NsConnect or NsSocket
	// spliceLo, loToLo: Config.SpliceLoopback (with NsSocket), HostLoToNsLo.
	spliceLo, loToLo bool
	log              *slog.Logger
	gate             *egress.Gate
	now              int64 // monotonic time of the current call
	tbl              table
	lst              []listener

	timeout, streamTimeout int64 // ns
	lastScan               int64

	// Receive side: batch-sized arrays for recvmmsg, the frame buffers,
	// and the frames handed to the tap.
	rmsg  []unix.Mmsghdr
	riov  []unix.Iovec
	rname []sockaddr
	bufs  [][]byte
	out   [][]byte
	used  int // frame buffers handed to the tap in this wake-up

	// Send side: datagrams from the guest staged for one sendmmsg.
	stage stager

	// Error queue: one message header, its buffers, and the ICMP body.
	emsg  unix.Msghdr
	eiov  unix.Iovec
	ename sockaddr
	ectl  [256]byte
	edata [quoteMax6]byte
	ebody [4 + quoteMax6]byte
	imsg  l2.ICMPMessage // error being built

	sa sockaddr // scratch socket address for bind/connect/sendto

	st Counts
}

// stager collects consecutive datagrams of one flow for one sendmmsg(2).
type stager struct {
	idx   int // flow index, -1: nothing staged
	fd    int
	n     int // messages staged
	off   int // bytes used in arena
	msg   []unix.Mmsghdr
	iov   []unix.Iovec
	name  []sockaddr
	arena []byte
}

// New opens the -u and -U listeners and returns a handler with room for
// cfg.Capacity flows. A listener that cannot be bound is logged and
// skipped, as passt does, unless none of a kind can be.
func New(cfg Config) (*Handler, error) {
	if cfg.Net == nil || cfg.Poller == nil || cfg.Tap == nil {
		return nil, fmt.Errorf("udp: Net, Poller and Tap are required")
	}
	if len(cfg.NsInbound) > 0 && cfg.NsSocket == nil {
		return nil, fmt.Errorf("udp: -U forwarding needs NsSocket")
	}
	capacity := cfg.Capacity
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	capacity = min(capacity, flow.MaxIndex+1)
	batch := cfg.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	h := &Handler{
		n: cfg.Net, poller: cfg.Poller, tap: cfg.Tap, mapper: fwd.NAT{Net: cfg.Net},
		nsSock: cfg.NsSocket, nsConn: cfg.NsConnect, log: cfg.Log, gate: cfg.Gate, tbl: newTable(capacity, cfg.Budget),
		spliceLo: cfg.SpliceLoopback && cfg.NsSocket != nil, loToLo: cfg.HostLoToNsLo,
		timeout:       int64(cfg.Timeout),
		streamTimeout: int64(cfg.StreamTimeout),
	}
	if h.nsConn == nil {
		h.nsConn = h.nsSock
	}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if h.timeout <= 0 {
		h.timeout = readTimeout(timeoutPath, DefaultTimeout)
	}
	if h.streamTimeout <= 0 {
		h.streamTimeout = readTimeout(streamTimeoutPath, DefaultStreamTimeout)
	}
	h.rmsg = make([]unix.Mmsghdr, batch)
	h.riov = make([]unix.Iovec, batch)
	h.rname = make([]sockaddr, batch)
	h.out = make([][]byte, batch)
	h.bufs = make([][]byte, batch)
	slab := make([]byte, batch*frameSize)
	for i := range h.bufs {
		h.bufs[i] = slab[i*frameSize : (i+1)*frameSize : (i+1)*frameSize]
	}
	h.stage = stager{
		idx:   -1,
		msg:   make([]unix.Mmsghdr, batch),
		iov:   make([]unix.Iovec, batch),
		name:  make([]sockaddr, batch),
		arena: make([]byte, stageBytes),
	}
	setMsg(&h.emsg, &h.eiov, h.edata[:], &h.ename, unix.SizeofSockaddrInet6)
	setControl(&h.emsg, h.ectl[:])
	if len(cfg.Prebound) > 0 {
		if len(cfg.Prebound) != len(cfg.Inbound) {
			return nil, fmt.Errorf("udp: %d prebound sockets for %d listeners", len(cfg.Prebound), len(cfg.Inbound))
		}
		for i := range cfg.Inbound {
			if err := h.register(&cfg.Inbound[i], cfg.Prebound[i], sockV6(cfg.Prebound[i]), false, true); err != nil {
				h.Close()
				return nil, err
			}
		}
	} else if err := h.listenAll(cfg.Inbound, false); err != nil {
		h.Close()
		return nil, err
	}
	if err := h.listenAll(cfg.NsInbound, true); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// Len returns the number of live flows.
func (h *Handler) Len() int { return h.tbl.Len() }

// Counts returns a copy of the handler's own counters.
func (h *Handler) Counts() Counts { return h.st }

// Listeners returns the number of bound -u and -U sockets.
func (h *Handler) Listeners() int { return len(h.lst) }

// Close closes every flow's socket and every listener. The handler must
// not be used after.
func (h *Handler) Close() {
	h.flush()
	for h.tbl.Len() > 0 {
		h.closeFlow(h.tbl.Len() - 1)
	}
	for i := range h.lst {
		if fd := int(h.lst[i].fd); fd >= 0 {
			_ = h.poller.Del(fd)
			if !h.lst[i].borrowed {
				unix.Close(fd)
			}
			h.lst[i].fd = -1
		}
	}
	h.lst = nil
}

// sockV6 reports whether fd is an AF_INET6 socket.
func sockV6(fd int) bool {
	d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	return err == nil && d == unix.AF_INET6
}

func (h *Handler) drop(r DropReason) { h.st.Drops[r]++ }

var _ flow.Handler = (*Handler)(nil)
