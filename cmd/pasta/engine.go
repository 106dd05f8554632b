// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"golang.org/x/sys/unix"

	"fmt"
	"log/slog"

	"gopasst/engine"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/guest"
	"gopasst/netns"
	"gopasst/pcap"
	"gopasst/policy"
	"gopasst/proto/icmp"
	"gopasst/proto/splice"
	"gopasst/proto/tcp"
	"gopasst/proto/udp"
	"gopasst/tap"
)

// icmpCapacity is the number of ICMP echo flows, as passt's flow table
// allows many more; pings are few.
const icmpCapacity = 1024

// newEngine builds the event loop on the tap fd with its handlers: ARP,
// NDP, DHCP and DHCPv6 inside the engine; TCP, UDP and ICMP echo as
// handlers, with the -t/-u listeners in the host's namespace and the
// -T/-U ones inside the guest's (made by the namespace worker w): -T
// connections are spliced to the host's loopback without the tap.
func newEngine(cfg *policy.Config, n *guest.Net, w *netns.Worker, fd int, log *slog.Logger) (*engine.Engine, error) {
	var pw *pcap.Writer
	if cfg.PcapFile != "" {
		var err error
		if pw, err = pcap.Create(cfg.PcapFile); err != nil {
			return nil, fmt.Errorf("pcap file: %w", err)
		}
	}
	// One flow capacity for the TCP, UDP and ICMP handlers, reported on the
	// stats line (passt's FLOW_MAX).
	budget := flow.NewBudget(flow.DefaultBudget)
	e, err := engine.New(engine.Config{
		Net: n, Device: tap.NewTun(fd), Pcap: pw, Log: log,
		Trace: cfg.Trace, StatsEvery: cfg.Stats, Budget: budget,
	})
	if err != nil {
		return nil, err
	}
	var th *tcp.Handler
	var sh *splice.Handler
	if !n.NoTCP {
		th, err = tcp.New(tcp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: budget,
			Inbound: cfg.TCPIn.Listeners(),
			Log:     log, Trace: cfg.Trace,
		})
		if err != nil {
			e.Close()
			return nil, err
		}
		e.SetTCP(th)
		e.Register(flow.KindTCP, th)
		e.Register(flow.KindTCPListen, th)
	}
	if !n.NoTCP && !cfg.NoSplice {
		// -T: listeners inside the namespace, relayed socket to socket to
		// the host's loopback (the tap is not involved).
		sh, err = splice.New(splice.Config{
			Poller: e.Poller(), Listeners: cfg.TCPOut.Listeners(),
			NsSocket: w.Socket, Log: log, Trace: cfg.Trace,
		})
		if err != nil {
			e.Close()
			return nil, err
		}
		e.Register(flow.KindSplice, sh)
		e.Register(flow.KindSpliceListen, sh)
	}
	if !n.NoUDP {
		uh, err := udp.New(udp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: budget,
			Inbound:   cfg.UDPIn.Listeners(),
			NsInbound: cfg.UDPOut.Listeners(),
			NsSocket:  w.Socket,
			Log:       log,
		})
		if err != nil {
			e.Close()
			return nil, err
		}
		e.SetUDP(uh)
		e.Register(flow.KindUDP, uh)
		e.Register(flow.KindUDPListen, uh)
	}
	if !n.NoICMP {
		ih := icmp.New(n, e.Poller(), e.Tap(), icmpCapacity)
		ih.SetBudget(budget)
		ih.Warnf = func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }
		e.SetICMP(ih)
		e.Register(flow.KindPing, ih)
	}
	if auto := autoForwarding(cfg, w, th, sh, log); auto != nil {
		e.Attach(auto)
	}
	return e, nil
}

// autoForwarding sets up pasta's "auto" TCP forwarding, the default when
// -t or -T is not given: ports bound inside the namespace get a listener
// on the host (-t auto, through the tap), ports bound on the host get one
// inside the namespace (-T auto, spliced). The socket tables are opened
// now, before the sandbox hides /proc: the namespace's on the worker
// thread (/proc/thread-self/net), the host's as /proc/self/net (the main
// thread stays in the host's namespace). Each side leaves out the ports
// gopasst itself holds there. UDP auto forwarding is not implemented: its
// static -u/-U rules apply. Nil when no rule says auto.
func autoForwarding(cfg *policy.Config, w *netns.Worker, th *tcp.Handler, sh *splice.Handler, log *slog.Logger) *fwd.Auto {
	a := fwd.NewAuto(log)
	if f := autoRules(cfg.TCPIn); f != nil && th != nil {
		open := func(name string) (fd int, err error) {
			err = w.Do(func() error {
				fd, err = unix.Open("/proc/thread-self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
				return err
			})
			return fd, err
		}
		var own func(uint16) bool
		if sh != nil {
			own = sh.Bound
		}
		a.Add("-t auto", fwd.NewScannerOpen(open, "tcp", f, own), th)
	}
	if f := autoRules(cfg.TCPOut); f != nil && sh != nil {
		var own func(uint16) bool
		if th != nil {
			own = th.Bound
		}
		a.Add("-T auto", fwd.NewScanner("/proc/self/net", "tcp", f, own), sh)
	}
	if a.Len() == 0 {
		return nil
	}
	return a
}

// autoRules returns f when it has an "auto" rule; a nil f (the option was
// not given) means pasta's default, "auto".
func autoRules(f *policy.Forward) *policy.Forward {
	if f == nil {
		auto, err := policy.ParseForward("auto", nil, policy.ModePasta)
		if err != nil {
			return nil
		}
		return auto
	}
	for _, r := range f.Rules {
		if r.Auto {
			return f
		}
	}
	return nil
}
