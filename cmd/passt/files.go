// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

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
	filePcap       = "pcap"                // -p, positioned after the global header
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
