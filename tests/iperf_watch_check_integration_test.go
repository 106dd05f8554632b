// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"os/exec"
	"testing"
	"time"
)

// TestIntegrationIperfWatch: runIperfWatched returns a finished client's
// output, and tells a client blocked in a UDP recv (as iperf3 3.12 in its
// connect) from one blocked elsewhere.
func TestIntegrationIperfWatch(t *testing.T) {
	recvUDP := `import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.recv(4)`
	for _, tc := range []struct {
		name    string
		argv    []string
		hang    bool
		connect bool
	}{
		{"finishes", []string{"echo", "done"}, false, false},
		{"udp recv", []string{"python3", "-c", recvUDP}, true, true},
		{"sleep", []string{"sleep", "30"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, hang, _ := runIperfWatched(exec.Command(tc.argv[0], tc.argv[1:]...), time.Second)
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if (hang != nil) != tc.hang {
				t.Fatalf("hang = %v, want %v (output %q)", hang, tc.hang, out)
			}
			if hang == nil {
				if string(out) != "done\n" {
					t.Errorf("output %q", out)
				}
				return
			}
			if hang.inUDPConnect() != tc.connect {
				t.Errorf("%v: inUDPConnect = %v, want %v", hang, hang.inUDPConnect(), tc.connect)
			}
		})
	}
}
