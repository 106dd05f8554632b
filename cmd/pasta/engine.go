// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"fmt"
	"log/slog"

	"gopasst/engine"
	"gopasst/flow"
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
	// One flow capacity for the UDP and ICMP handlers, reported on the
	// stats line (passt's FLOW_MAX).
	budget := flow.NewBudget(flow.DefaultBudget)
	e, err := engine.New(engine.Config{
		Net: n, Device: tap.NewTun(fd), Pcap: pw, Log: log,
		Trace: cfg.Trace, StatsEvery: cfg.Stats, Budget: budget,
	})
	if err != nil {
		return nil, err
	}
	if !n.NoTCP {
		th, err := tcp.New(tcp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(),
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
		sh, err := splice.New(splice.Config{
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
	return e, nil
}
