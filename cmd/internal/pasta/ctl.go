// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"log/slog"

	"gopasst/cmd/internal/handlers"
	"gopasst/ctl"
	"gopasst/engine"
	"gopasst/policy"
)

// addControl opens the -c/--conf-path control socket (before the
// sandbox: it needs the file system) and serves it from the event loop
// (package ctl): runtime -t rules open listeners through the TCP
// handler, -u ones through the UDP handler's host side, as -t/-u auto.
func addControl(cfg *policy.Config, e *engine.Engine, hs *handlers.Set, log *slog.Logger) (*ctl.Server, error) {
	if cfg.ConfPath == "" {
		return nil, nil
	}
	fd, err := ctl.Listen(cfg.ConfPath)
	if err != nil {
		return nil, err
	}
	c := ctl.Config{Fd: fd, Poller: e.Poller(), Log: log}
	if hs.TCP != nil {
		c.TCP = hs.TCP
	}
	if hs.UDP != nil {
		c.UDP = hs.UDP.Opener(false)
	}
	for _, f := range []*policy.Forward{cfg.TCPIn, cfg.UDPIn} {
		if f == nil {
			continue
		}
		c.Static = append(c.Static, f.RuleStrings()...)
	}
	s, err := ctl.New(c)
	if err != nil {
		return nil, err
	}
	if err := e.Add(s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
