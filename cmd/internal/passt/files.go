// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"gopasst/logging"
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
	fileSyslog  = "syslog"              // daemon without -l: socket connected to /dev/log
	filePcap    = "pcap"                // -p, positioned after the global header
	fileAudit   = "audit"               // --audit-log FILE (not "-": stderr is inherited anyway)
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

// newLogger returns the logger for -d/--trace/-q, as passt's log.c: to
// the -l file (logFile), kept within --log-size; else to the system log
// (sys, a daemon's: its stderr is /dev/null); else to stderr.
func newLogger(cfg *policy.Config, logFile *os.File, sys *logging.Syslog) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logging.Level(cfg)}
	switch {
	case logFile != nil:
		return slog.New(slog.NewTextHandler(logging.NewFile(logFile, cfg.LogSize), opts))
	case sys != nil:
		return slog.New(sys.NewHandler(opts.Level))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// inheritedLog returns the log file and the system log socket handed
// over by the parent, each nil if absent.
func inheritedLog() (logFile *os.File, sys *logging.Syslog) {
	if fd := inheritedFD(fileLog); fd >= 0 {
		logFile = os.NewFile(uintptr(fd), "log")
	}
	if fd := inheritedFD(fileSyslog); fd >= 0 {
		sys = logging.NewSyslog(os.NewFile(uintptr(fd), logging.SyslogPath), "passt")
	}
	return logFile, sys
}

// openAudit opens --audit-log FILE for appending, before any sandbox: the
// guest processes write it through the inherited fd. Nil for none or "-"
// (stderr).
func openAudit(cfg *policy.Config) (*os.File, error) {
	if cfg.AuditLog == "" || cfg.AuditLog == "-" {
		return nil, nil
	}
	f, err := os.OpenFile(cfg.AuditLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return f, nil
}

// openLog opens -l, truncated as passt does; it is kept within --log-size
// by logging.File.
func openLog(cfg *policy.Config) (*os.File, error) {
	if cfg.LogFile == "" {
		return nil, nil
	}
	return logging.Open(cfg.LogFile)
}
