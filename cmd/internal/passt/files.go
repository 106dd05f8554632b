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

// The sandboxed process's stage and the files the launcher hands it.
// sandbox.Reexec sets (and VerifyStage checks) the stage.
const (
	stageSandboxed = "passt"               // sandbox stage of the one long-lived process
	envFiles       = "GOPASST_PASST_FILES" // comma-separated names of the fds from 3 on
	fileSocket     = "socket"              // the listening UNIX socket
	fileSockDir    = "sockdir"             // O_PATH descriptor of the UNIX socket's directory
	fileConn       = "conn"                // the connected guest socket of -F
	fileLog        = "log"                 // -l
	fileSyslog     = "syslog"              // daemon without -l: socket connected to /dev/log
	filePcap       = "pcap"                // -p, positioned after the global header
	fileAudit      = "audit"               // --audit-log FILE (not "-": stderr is inherited anyway)
	fileReady      = "ready"               // write end of the readiness pipe
	fileTCP        = "tcp"                 // a -t listener, in the order of TCPIn.Listeners()
	fileUDP        = "udp"                 // a -u socket, in the order of UDPIn.Listeners()
	firstFD        = 3                     // os/exec puts ExtraFiles[0] at fd 3
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
	if fds := inheritedFDs(name); len(fds) > 0 {
		return fds[0]
	}
	return -1
}

// inheritedFDs returns the fds of every file named name in envFiles, in
// order.
func inheritedFDs(name string) []int {
	v := os.Getenv(envFiles)
	if v == "" {
		return nil
	}
	var fds []int
	for i, n := range strings.Split(v, ",") {
		if n == name {
			fds = append(fds, firstFD+i)
		}
	}
	return fds
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
