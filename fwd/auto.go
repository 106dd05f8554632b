// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"log/slog"

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

// Auto drives pasta's automatic forwarding: on each Tick it runs its
// Scanners (each at most once per ScanInterval) and opens or closes the
// matching listeners on the other side. It is a flow.Handler that owns no
// file descriptor of the epoll set; attach it to the engine for its Tick.
// Mirrors fwd_scan_ports_timer() in passt fwd.c.
type Auto struct {
	log   *slog.Logger
	pairs []autoPair
}

type autoPair struct {
	name string // for logs: "-t auto", "-T auto"
	s    *Scanner
	to   Opener
}

// NewAuto returns an Auto with no scanners; log may be nil.
func NewAuto(log *slog.Logger) *Auto {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Auto{log: log}
}

// Add makes a follow s: ports s reports bound get a listener from to,
// ports it reports released lose it.
func (a *Auto) Add(name string, s *Scanner, to Opener) {
	a.pairs = append(a.pairs, autoPair{name: name, s: s, to: to})
}

// Len returns the number of scanners.
func (a *Auto) Len() int { return len(a.pairs) }

// HandleSock is never called: Auto owns no fd.
func (a *Auto) HandleSock(flow.Ref, uint32, int64) {}

// Deferred does nothing.
func (a *Auto) Deferred(int64) {}

// Tick scans and applies the changes. A listener that cannot be opened
// (the port is taken on the other side, say) is logged and retried only
// when the port is bound anew.
func (a *Auto) Tick(now int64) {
	for i := range a.pairs {
		p := &a.pairs[i]
		added, removed, err := p.s.Scan(now)
		if err != nil {
			a.log.Warn("auto forwarding: scan failed", "rule", p.name, "err", err)
			continue
		}
		for _, port := range removed {
			if err := p.to.Unlisten(port); err != nil {
				a.log.Debug("auto forwarding: unlisten", "rule", p.name, "port", port, "err", err)
			}
		}
		for _, port := range added {
			l, ok := p.s.Listener(port)
			if !ok {
				continue
			}
			if err := p.to.Listen(l); err != nil {
				a.log.Warn("auto forwarding: cannot listen", "rule", p.name, "port", port, "err", err)
				continue
			}
			a.log.Debug("auto forwarding: listening", "rule", p.name, "port", port)
		}
	}
}

// Close closes the scanners.
func (a *Auto) Close() {
	for _, p := range a.pairs {
		p.s.Close()
	}
	a.pairs = nil
}
