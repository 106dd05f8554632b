// SPDX-License-Identifier: GPL-2.0-or-later

package logging

import (
	"log/slog"

	"gopasst/policy"
)

// Level returns the level for -q, -d and --trace: info by default,
// warnings and errors with -q, debug with -d or --trace (the last one
// given wins, as the parser applies them in order).
func Level(cfg *policy.Config) slog.Level {
	switch {
	case cfg.Debug || cfg.Trace:
		return slog.LevelDebug
	case cfg.Quiet:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
