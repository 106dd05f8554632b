// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"log/slog"
	"math"

	"gopasst/flow"
	"gopasst/policy"
)

// Opener opens and closes forwarding listeners on the side opposite the
// one a Scanner watches: proto/tcp's Handler for "-t auto" (listeners on
// the host), proto/splice's for "-T auto" (listeners in the namespace).
type Opener interface {
	Listen(l policy.Listener) error
	Unlisten(port uint16) error
}

// AutoConfig is what NewAuto needs.
type AutoConfig struct {
	// Rules are the scanners to follow, each with the Opener of the
	// other side.
	Rules []AutoRule
	// Log receives scan failures and listeners that cannot be opened;
	// nil discards.
	Log *slog.Logger
}

// AutoRule makes Auto follow Scanner: ports it reports bound get a
// listener from To, ports it reports released lose it.
type AutoRule struct {
	Name    string // for logs: "-t auto", "-T auto"
	Scanner *Scanner
	To      Opener
}

// Auto drives pasta's automatic forwarding: on each Tick it runs its
// Scanners (each at most once per ScanInterval) and opens or closes the
// matching listeners on the other side. It is a flow.Handler that owns no
// file descriptor of the epoll set and takes no frames: the engine calls
// it for its Tick. Mirrors fwd_scan_ports_timer() in passt fwd.c.
type Auto struct {
	flow.Nop // Begin, HandleSock, HandleTap, End: nothing to do
	log      *slog.Logger
	rules    []AutoRule
	opened   uint64 // listeners opened
	failed   uint64 // listeners that could not be opened, and failed scans
}

// NewAuto returns an Auto following cfg.Rules.
func NewAuto(cfg AutoConfig) *Auto {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Auto{log: log, rules: cfg.Rules}
}

// Len returns the number of scanners.
func (a *Auto) Len() int { return len(a.rules) }

// Claim implements flow.Handler: no fds, no frames; counters of the
// listeners it opened (opens) and could not open (refused).
func (a *Auto) Claim() flow.Claim {
	return flow.Claim{Name: "auto", Counters: flow.CountersOf(flow.Opens, flow.Refused)}
}

// Stats implements flow.Handler.
func (a *Auto) Stats() flow.Stats {
	var s flow.Stats
	s[flow.Opens], s[flow.Refused] = a.opened, a.failed
	return s
}

// Tick scans and applies the changes. A listener that cannot be opened
// (the port is taken on the other side, say) is logged and retried only
// when the port is bound anew.
func (a *Auto) Tick(now int64) {
	for i := range a.rules {
		p := &a.rules[i]
		added, removed, err := p.Scanner.Scan(now)
		if err != nil {
			a.failed++
			a.log.Warn("auto forwarding: scan failed", "rule", p.Name, "err", err)
			continue
		}
		for _, port := range removed {
			if err := p.To.Unlisten(port); err != nil {
				a.log.Debug("auto forwarding: unlisten", "rule", p.Name, "port", port, "err", err)
			}
		}
		for _, port := range added {
			l, ok := p.Scanner.Listener(port)
			if !ok {
				continue
			}
			if err := p.To.Listen(l); err != nil {
				a.failed++
				a.log.Warn("auto forwarding: cannot listen", "rule", p.Name, "port", port, "err", err)
				continue
			}
			a.opened++
			a.log.Debug("auto forwarding: listening", "rule", p.Name, "port", port)
		}
	}
}

// NextTick implements flow.Sleeper: the earliest next scan.
func (a *Auto) NextTick(now int64) int64 {
	next := int64(math.MaxInt64)
	for i := range a.rules {
		next = min(next, a.rules[i].Scanner.Next())
	}
	return next
}

// Close closes the scanners.
func (a *Auto) Close() {
	for _, p := range a.rules {
		p.Scanner.Close()
	}
	a.rules = nil
}
