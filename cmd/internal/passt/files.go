// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"gopasst/policy"
)

// Process roles and the environment that carries them. sandbox.Reexec
// sets its own stage variable for the guest process; the daemon is a
// plain re-exec with envStage.
const (
	stageGuest  = "passt-guest"         // sandbox stage of the per-guest process
	stageDaemon = "daemon"              // value of envStage in the daemon
	envStage    = "GOPASST_PASST_STAGE" // "daemon" in the daemonized supervisor
	envFiles    = "GOPASST_PASST_FILES" // comma-separated names of the fds from 3 on
	fileSocket  = "socket"              // the listening UNIX socket
	fileConn    = "conn"                // a connected guest socket (-F, or accepted)
	fileLog     = "log"                 // -l
	filePcap    = "pcap"                // -p, positioned after the global header
	fileReady   = "ready"               // daemon: write end of the readiness pipe
	firstFD     = 3                     // os/exec puts ExtraFiles[0] at fd 3
)

// handover is a set of named files passed to a re-executed process at
// fds 3, 4, ... in order.
type handover struct {
	names []string
	files []*os.File
}

func (h *handover) add(name string, f *os.File) {
	if f == nil {
		return
	}
	h.names = append(h.names, name)
	h.files = append(h.files, f)
}

// env is the variable that tells the child which fd is which.
func (h *handover) env() string { return envFiles + "=" + strings.Join(h.names, ",") }

// inheritedFD returns the fd of the file named name in envFiles, or -1.
func inheritedFD(name string) int {
	v := os.Getenv(envFiles)
	if v == "" {
		return -1
	}
	for i, n := range strings.Split(v, ",") {
		if n == name {
			return firstFD + i
		}
	}
	return -1
}

// newLogger returns the logger for -d/--trace/-q, writing to w (the log
// file, or stderr, which a daemon has on /dev/null).
func newLogger(cfg *policy.Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case cfg.Debug || cfg.Trace:
		level = slog.LevelDebug
	case cfg.Quiet:
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// logWriter is the inherited log file if there is one, else stderr.
func logWriter() io.Writer {
	if fd := inheritedFD(fileLog); fd >= 0 {
		return os.NewFile(uintptr(fd), "log")
	}
	return os.Stderr
}

// openLog opens -l for appending (passt truncates at --log-size; here the
// file simply grows).
func openLog(cfg *policy.Config) (*os.File, error) {
	if cfg.LogFile == "" {
		return nil, nil
	}
	f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}
