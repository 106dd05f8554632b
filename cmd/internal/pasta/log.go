// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"log/slog"
	"os"

	"gopasst/logging"
	"gopasst/netns"
	"gopasst/policy"
)

// newLogger returns the engine's logger for -d/--trace/-q, as passt's
// log.c: to the -l file, kept within --log-size; else, for a daemon
// (whose stderr is /dev/null), to the system log; else to stderr. The
// file or the system log socket is opened now, before the sandbox. A
// daemon that finds no system log logs nowhere, as passt then does.
func newLogger(cfg *policy.Config) (*slog.Logger, func(), error) {
	opts := &slog.HandlerOptions{Level: logging.Level(cfg)}
	switch {
	case cfg.LogFile != "":
		f, err := logging.Open(cfg.LogFile)
		if err != nil {
			return nil, nil, err
		}
		l := logging.NewFile(f, cfg.LogSize)
		return slog.New(slog.NewTextHandler(l, opts)), func() { l.Close() }, nil
	case netns.Daemonized():
		s, err := logging.DialSyslog(logging.SyslogPath, "pasta")
		if err != nil {
			return slog.New(slog.NewTextHandler(os.Stderr, opts)), func() {}, nil
		}
		return slog.New(s.NewHandler(opts.Level)), func() { s.Close() }, nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), func() {}, nil
}
