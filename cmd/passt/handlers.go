// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"fmt"
	"log/slog"

	"gopasst/engine"
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/policy"
	"gopasst/proto/icmp"
	"gopasst/proto/tcp"
	"gopasst/proto/udp"
)

// icmpCapacity is the number of ICMP echo flows; pings are few.
const icmpCapacity = 1024

// addHandlers creates the L4 handlers and plugs them into e: TCP (with the
// -t listeners), UDP (with the -u listeners) and ICMP echo. ARP, NDP, DHCP
// and DHCPv6 live inside the engine. The TCP, UDP and ICMP handlers share the
// flow budget of the engine. The returned function closes them all.
func addHandlers(cfg *policy.Config, n *guest.Net, e *engine.Engine, budget *flow.Budget, log *slog.Logger) (func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if !n.NoTCP {
		th, err := tcp.New(tcp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: budget,
			Inbound: cfg.TCPIn.Listeners(),
			Log:     log, Trace: cfg.Trace,
		})
		if err != nil {
			closeAll()
			return nil, err
		}
		closers = append(closers, th.Close)
		e.SetTCP(th)
		e.Register(flow.KindTCP, th)
		e.Register(flow.KindTCPListen, th)
	}
	if !n.NoUDP {
		uh, err := udp.New(udp.Config{
			Net: n, Poller: e.Poller(), Tap: e.Tap(), Budget: budget,
			Inbound: cfg.UDPIn.Listeners(),
			Log:     log,
		})
		if err != nil {
			closeAll()
			return nil, err
		}
		closers = append(closers, uh.Close)
		e.SetUDP(uh)
		e.Register(flow.KindUDP, uh)
		e.Register(flow.KindUDPListen, uh)
	}
	if !n.NoICMP {
		ih := icmp.New(n, e.Poller(), e.Tap(), icmpCapacity)
		ih.SetBudget(budget)
		ih.Warnf = func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }
		closers = append(closers, ih.Close)
		e.SetICMP(ih)
		e.Register(flow.KindPing, ih)
	}
	return closeAll, nil
}
