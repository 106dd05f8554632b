// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"golang.org/x/sys/unix"

	"fmt"
	"log/slog"

	"gopasst/audit"
	"gopasst/cmd/internal/handlers"
	"gopasst/egress"
	"gopasst/engine"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/guest"
	"gopasst/netns"
	"gopasst/pcap"
	"gopasst/policy"
	"gopasst/tap"
)

// newEngine builds the event loop on the tap fd with its handlers (see
// cmd/internal/handlers): ARP, NDP, DHCP, DHCPv6, TCP, UDP and ICMP echo,
// with the -t/-u listeners in the host's namespace and the
// -T/-U ones inside the guest's (made by the namespace worker w): -T
// connections are spliced to the host's loopback without the tap.
// The audit log (--audit-log) is opened here too, before the sandbox; the
// caller closes it after the engine. noPeek: TCP goes without SO_PEEK_OFF
// (tcp.PeekOffsetEnv).
func newEngine(cfg *policy.Config, n *guest.Net, w *netns.Worker, dev tap.Device, noPeek bool, log *slog.Logger) (*engine.Engine, *handlers.Set, *audit.Log, error) {
	var pw *pcap.Writer
	if cfg.PcapFile != "" {
		var err error
		if pw, err = pcap.Create(cfg.PcapFile); err != nil {
			return nil, nil, nil, fmt.Errorf("pcap file: %w", err)
		}
	}
	var alog *audit.Log
	if cfg.AuditLog != "" {
		var err error
		if alog, err = audit.Open(cfg.AuditLog); err != nil {
			return nil, nil, nil, err
		}
	}
	gate := egress.New(cfg, alog)
	// One flow capacity for the TCP, UDP and ICMP handlers, reported on the
	// stats line (passt's FLOW_MAX).
	budget := flow.NewBudget(flow.DefaultBudget)
	e, err := engine.New(engine.Config{
		Net: n, Device: dev, Pcap: pw, Log: log,
		Trace: cfg.Trace, StatsEvery: cfg.Stats, Budget: budget, Gate: gate,
		Dedicated: true,
	})
	if err != nil {
		alog.Close(0)
		return nil, nil, nil, err
	}
	hs, err := handlers.Add(e, handlers.Config{
		Policy: cfg, Net: n, Budget: budget, Gate: gate, Log: log, NsSocket: w.Socket, NsPool: netns.NewPool(w), NoPeekOffset: noPeek,
	})
	if err != nil {
		e.Close()
		alog.Close(0)
		return nil, nil, nil, err
	}
	if auto := autoForwarding(cfg, w, hs, log); auto != nil {
		if err := e.Add(auto); err != nil {
			auto.Close()
			hs.Close()
			e.Close()
			alog.Close(0)
			return nil, nil, nil, err
		}
	}
	return e, hs, alog, nil
}

// newDevice wraps the tap fd: with vnet (the tap was opened with
// IFF_VNET_HDR), the offloads the kernel takes are asked for
// (tap.SetOffloads: checksum and TSO, else checksum, else none) and
// frames carry a virtio-net header; else a plain tap.
func newDevice(fd int, vnet bool, log *slog.Logger) (tap.Device, error) {
	if !vnet {
		log.Debug("tap offloads: off (" + netns.TapOffloadEnv + "=off)")
		return tap.NewTun(fd), nil
	}
	off, err := tap.SetOffloads(fd)
	if err != nil {
		return nil, fmt.Errorf("tap offloads: %w (%s=off turns them off)", err, netns.TapOffloadEnv)
	}
	log.Debug("tap offloads: " + off.String())
	return tap.NewTunVnet(fd, off), nil
}

// autoForwarding sets up pasta's "auto" TCP forwarding, the default when
// -t or -T is not given: ports bound inside the namespace get a listener
// on the host (-t auto, through the tap), ports bound on the host get one
// inside the namespace (-T auto, spliced). The socket tables are opened
// now, before the sandbox hides /proc: the namespace's on the worker
// thread (/proc/thread-self/net), the host's as /proc/self/net (the main
// thread stays in the host's namespace). Each side leaves out the ports
// gopasst itself holds there. UDP is the same (-u auto, -U auto; also
// the default), its scanners also following bound TCP ports, as passt's
// fwd_scan_ports_udp() (iperf3's data port is its control port). Nil
// when no rule says auto.
func autoForwarding(cfg *policy.Config, w *netns.Worker, hs *handlers.Set, log *slog.Logger) *fwd.Auto {
	th, sh, uh := hs.TCP, hs.Splice, hs.UDP
	var rules []fwd.AutoRule
	open := func(name string) (fd int, err error) {
		err = w.Do(func() error {
			fd, err = unix.Open("/proc/thread-self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			return err
		})
		return fd, err
	}
	if f := autoRules(cfg.TCPIn); f != nil && th != nil {
		var own func(uint16) bool
		if sh != nil {
			own = sh.Bound
		}
		rules = append(rules, fwd.AutoRule{Name: "-t auto", Scanner: fwd.NewScannerOpen(open, "tcp", f, own), To: th})
	}
	if f := autoRules(cfg.TCPOut); f != nil && sh != nil {
		var own func(uint16) bool
		if th != nil {
			own = th.Bound
		}
		rules = append(rules, fwd.AutoRule{Name: "-T auto", Scanner: fwd.NewScanner("/proc/self/net", "tcp", f, own), To: sh})
	}
	if uh != nil {
		// Each side's own ports: UDP listeners, and the TCP ones the
		// UDP scanners also see.
		nsOwn := func(p uint16) bool { return uh.Opener(true).Bound(p) || (sh != nil && sh.Bound(p)) }
		hostOwn := func(p uint16) bool { return uh.Opener(false).Bound(p) || (th != nil && th.Bound(p)) }
		if f := autoRules(cfg.UDPIn); f != nil {
			rules = append(rules, fwd.AutoRule{Name: "-u auto", Scanner: fwd.NewScannerOpen(open, "udp", f, nsOwn), To: uh.Opener(false)})
		}
		if f := autoRules(cfg.UDPOut); f != nil {
			rules = append(rules, fwd.AutoRule{Name: "-U auto", Scanner: fwd.NewScanner("/proc/self/net", "udp", f, hostOwn), To: uh.Opener(true)})
		}
	}
	if len(rules) == 0 {
		return nil
	}
	return fwd.NewAuto(fwd.AutoConfig{Rules: rules, Log: log})
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
