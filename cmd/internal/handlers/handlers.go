// SPDX-License-Identifier: GPL-2.0-or-later

package handlers

import (
	"log/slog"
	"time"

	"gopasst/egress"
	"gopasst/engine"
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/netns"
	"gopasst/policy"
	"gopasst/proto/icmp"
	"gopasst/proto/linksvc"
	"gopasst/proto/splice"
	"gopasst/proto/tcp"
	"gopasst/proto/udp"
)

// Config says which handlers to make and how.
type Config struct {
	Policy *policy.Config
	Net    *guest.Net
	// Budget is the flow capacity the TCP, UDP and ICMP handlers share.
	Budget *flow.Budget
	// Gate is the guest's flow policy (egress rules, limits, audit log)
	// every handler checks where a flow opens. Nil: everything allowed.
	Gate *egress.Gate
	Log  *slog.Logger
	// NsSocket opens a socket inside the guest's namespace (pasta): the
	// -T and -U listeners live there.
	// Nil in passt mode.
	NsSocket func(domain, typ, proto int) (int, error)
	// NsPool, with NsSocket, makes the namespace sides of the -t
	// connections and -u flows spliced from the host's loopback, in
	// batches; Set.Close closes its stock. Nil: NsSocket makes each.
	NsPool *netns.Pool
	// TCPPrebound and UDPPrebound, if not empty, are the -t and -u
	// listening sockets, bound by passt's launcher in the order of
	// Policy.TCPIn.Listeners() and Policy.UDPIn.Listeners(); the handlers
	// use them instead of binding and never close them.
	TCPPrebound, UDPPrebound []int
	// UDPTimeout and UDPStreamTimeout are the UDP flow timeouts; zero
	// reads the host's (see udp.HostTimeouts), which needs /proc.
	UDPTimeout, UDPStreamTimeout time.Duration
	// NoPeekOffset: TCP peeks without SO_PEEK_OFF (tcp.PeekOffsetEnv,
	// read by the caller at start, so that a bad value is refused then).
	NoPeekOffset bool
}

// Set is the handlers Add made that hold sockets (the link services hold
// none); a field is nil when its handler was not wanted.
type Set struct {
	TCP    *tcp.Handler
	Splice *splice.Handler
	UDP    *udp.Handler
	ICMP   *icmp.Handler
	pool   *netns.Pool // Config.NsPool
}

// Add creates the handlers cfg asks for and adds them to e, in this
// order: the link services (proto/linksvc: ARP; NDP, DHCP and DHCPv6
// unless switched off), in pasta the splice handler (-T, and the -t
// connections from the host's loopback unless --no-splice), TCP (with the
// -t listeners), UDP (-u, and in pasta -U and the -u datagrams from the
// host's loopback) and ICMP echo. On error it closes those it made.
func Add(e *engine.Engine, cfg Config) (*Set, error) {
	p, n, log := cfg.Policy, cfg.Net, cfg.Log
	s := &Set{pool: cfg.NsPool}
	fail := func(err error) (*Set, error) {
		s.Close()
		return nil, err
	}
	links, err := linksvc.New(n, e.Tap())
	if err != nil {
		return fail(err)
	}
	for _, h := range links {
		if err := e.Add(h); err != nil {
			return fail(err)
		}
	}
	if !n.NoTCP && cfg.NsSocket != nil {
		// -T: listeners inside the namespace, relayed socket to socket to
		// the host's loopback (the tap is not involved); and, unless
		// --no-splice, the -t connections from the host's loopback,
		// relayed the other way. --no-splice is upstream's "bypass path
		// for inbound, local traffic": -T keeps its splice path.
		sc := splice.Config{
			Poller: e.Poller(), Listeners: p.TCPOut.Listeners(), NoV4: !n.HasV4(), NoV6: !n.HasV6(),
			NsSocket: cfg.NsSocket, Gate: cfg.Gate, Log: log, Trace: p.Trace,
		}
		if cfg.NsPool != nil {
			sc.NsConnect = cfg.NsPool.Socket
		}
		sh, err := splice.New(sc)
		if err != nil {
			return fail(err)
		}
		s.Splice = sh
		if err := e.Add(sh); err != nil {
			return fail(err)
		}
	}
	if !n.NoTCP {
		tc := tcp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: cfg.Budget,
			Inbound: p.TCPIn.Listeners(), Prebound: cfg.TCPPrebound, Gate: cfg.Gate, HostLoToNsLo: p.HostLoToNsLo,
			Log: log, Trace: p.Trace, NoPeekOffset: cfg.NoPeekOffset,
		}
		if s.Splice != nil && !p.NoSplice {
			tc.Splice = s.Splice
		}
		th, err := tcp.New(tc)
		if err != nil {
			return fail(err)
		}
		s.TCP = th
		if err := e.Add(th); err != nil {
			return fail(err)
		}
	}
	if !n.NoUDP {
		uc := udp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: cfg.Budget,
			Inbound: p.UDPIn.Listeners(), Prebound: cfg.UDPPrebound, Gate: cfg.Gate,
			Timeout: cfg.UDPTimeout, StreamTimeout: cfg.UDPStreamTimeout,
			Log: log,
		}
		if cfg.NsSocket != nil {
			uc.NsInbound, uc.NsSocket = p.UDPOut.Listeners(), cfg.NsSocket
			if cfg.NsPool != nil {
				uc.NsConnect = cfg.NsPool.Socket
			}
			uc.SpliceLoopback, uc.HostLoToNsLo = !p.NoSplice, p.HostLoToNsLo
		}
		uh, err := udp.New(uc)
		if err != nil {
			return fail(err)
		}
		s.UDP = uh
		if err := e.Add(uh); err != nil {
			return fail(err)
		}
	}
	if !n.NoICMP {
		ih, err := icmp.New(icmp.Config{Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: cfg.Budget, Gate: cfg.Gate, Log: log})
		if err != nil {
			return fail(err)
		}
		s.ICMP = ih
		if err := e.Add(ih); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// Close closes the handlers in the reverse order of their making.
func (s *Set) Close() {
	if s.ICMP != nil {
		s.ICMP.Close()
	}
	if s.UDP != nil {
		s.UDP.Close()
	}
	if s.Splice != nil {
		s.Splice.Close()
	}
	if s.TCP != nil {
		s.TCP.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}
