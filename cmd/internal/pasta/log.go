// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"gopasst/policy"
)

// newLogger returns the logger for -d/--trace/-q/-l: to the log file if
// given, else to stderr (which a daemon has on /dev/null).
func newLogger(cfg *policy.Config) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	switch {
	case cfg.Debug || cfg.Trace:
		level = slog.LevelDebug
	case cfg.Quiet:
		level = slog.LevelWarn
	}
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}
