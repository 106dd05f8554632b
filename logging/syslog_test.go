// SPDX-License-Identifier: GPL-2.0-or-later

package logging

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSyslog sends records through a real datagram socket, as to
// /dev/log, and reads what a system logger would.
func TestSyslog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := DialSyslog(path, "pasta")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log := slog.New(s.NewHandler(slog.LevelInfo))
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		name string
		log  func()
		want string // "" when nothing is sent
	}{
		{"info", func() { log.Info("tap ready", "ifname", "eth0") }, "<30>pasta[" + pid + "]: tap ready ifname=eth0"},
		{"warning", func() { log.Warn("no ping sockets") }, "<28>pasta[" + pid + "]: no ping sockets"},
		{"error", func() { log.Error("target gone", "err", os.ErrNotExist) }, "<27>pasta[" + pid + "]: target gone err=file does not exist"},
		{"debug filtered", func() { log.Debug("per packet") }, ""},
		{"attrs and groups", func() { log.With("flow", 3).WithGroup("tcp").Info("closed", "reason", "rst") },
			"<30>pasta[" + pid + "]: closed flow=3 tcp.reason=rst"},
	}
	buf := make([]byte, 2048)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.log()
			ln.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := ln.Read(buf)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("sent %q, want nothing", buf[:n])
			case tt.want != "" && err != nil:
				t.Errorf("nothing received: %v", err)
			case tt.want != "" && string(buf[:n]) != tt.want:
				t.Errorf("got %q, want %q", buf[:n], tt.want)
			}
		})
	}
	if d := s.Dropped(); d != 0 {
		t.Errorf("Dropped = %d", d)
	}
}
