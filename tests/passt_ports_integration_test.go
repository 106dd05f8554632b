// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationPasstPortsAtStart: passt binds every -t and -u listener
// before it reports anything, and a port it cannot have ends it at once,
// status 1, with a message naming the option and the port (upstream:
// "Couldn't listen on requested ports"), leaving no socket file and no
// process behind. Cases: a TCP and a UDP port in use, and a port below
// 1024 for a user without the privilege.
func TestIntegrationPasstPortsAtStart(t *testing.T) {
	requireRoot(t)
	tcpBusy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcpBusy.Close()
	udpBusy, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer udpBusy.Close()
	tcpPort := strconv.Itoa(tcpBusy.Addr().(*net.TCPAddr).Port)
	udpPort := strconv.Itoa(udpBusy.LocalAddr().(*net.UDPAddr).Port)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}
	for _, tt := range []struct {
		name string
		cred *syscall.Credential
		args []string
		want string
	}{
		{"tcp in use", nil, []string{"-t", "127.0.0.1/" + tcpPort}, "-t " + tcpPort + ": "},
		{"udp in use", nil, []string{"-u", udpPort}, "-u " + udpPort + ": "},
		{"privileged port as a user", nobody, []string{"-t", "127.0.0.1/80"}, "-t 80: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := auditDir(t)
			sock := filepath.Join(dir, "passt.sock")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, passtBin, append([]string{"-f", "-s", sock}, append(tt.args, ptArgs()...)...)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: tt.cred}
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("passt still running after 10 s: it did not fail at start\n%s", out)
			}
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1\n%s", err, out)
			}
			if !strings.Contains(string(out), "couldn't listen on requested ports: "+tt.want) {
				t.Errorf("output %q does not name %q", out, tt.want)
			}
			if _, err := os.Stat(sock); err == nil {
				t.Errorf("socket file %s left behind", sock)
			}
		})
	}
}
