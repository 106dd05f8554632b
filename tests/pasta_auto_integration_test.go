// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIntegrationPastaAutoForward runs pasta without -t/-T, so both default
// to "auto": a server the namespace binds becomes reachable from the host
// on the same port within about a second (through the tap), and a server
// bound on the host's loopback is reachable from the namespace's loopback
// (spliced). Everything runs in a fake host namespace, so the scanned host
// ports are only the test's.
func TestIntegrationPastaAutoForward(t *testing.T) {
	requireRoot(t)
	prefix := fakeDualStackHost(t, "gpautohost")
	const nsPort, hostPort = 18195, 18196

	// A host-side server on the fake host's loopback.
	host := command(append(append([]string{}, prefix...), "python3", "-c", fmt.Sprintf(`
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", %d)); s.listen(8); s.settimeout(30)
while True:
    c, _ = s.accept(); c.sendall(b"from-host\n"); c.close()
`, hostPort))...)
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Process.Kill(); host.Wait() })

	inNs := fmt.Sprintf(`
python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(8); s.settimeout(20)
while True:
    c, _ = s.accept(); c.sendall(b"from-ns\n"); c.close()
' &
i=0; got=
while [ $i -lt 40 ]; do
	got=$(python3 -c '
import socket
try:
    c = socket.create_connection(("127.0.0.1", %d), timeout=1); print(c.recv(64).decode().strip())
except Exception as e:
    pass
')
	[ -n "$got" ] && break
	sleep 0.1; i=$((i+1))
done
echo "NS-SAW $got"
sleep 3
`, nsPort, hostPort)
	pasta := command(append(append([]string{}, prefix...), pastaBin, "--config-net", "--", "sh", "-c", inNs)...)
	var out strings.Builder
	pasta.Stdout, pasta.Stderr = &out, &out
	if err := pasta.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pasta.Process.Kill(); pasta.Wait() })

	// From the fake host: the namespace's port appears on the host.
	var fromNs string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && fromNs == "" {
		fromNs = dialInNetns(t, prefix, fmt.Sprintf("127.0.0.1:%d", nsPort))
		if fromNs == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := pasta.Wait(); err != nil {
		t.Fatalf("pasta: %v\n%s", err, out.String())
	}
	if fromNs != "from-ns" {
		t.Errorf("host → namespace port %d (-t auto): got %q, want from-ns\n%s", nsPort, fromNs, out.String())
	}
	if !strings.Contains(out.String(), "NS-SAW from-host") {
		t.Errorf("namespace → host port %d (-T auto) failed:\n%s", hostPort, out.String())
	}
}

// dialInNetns connects to addr from inside the namespace that prefix runs
// commands in and returns the first line received, or "".
func dialInNetns(t *testing.T, prefix []string, addr string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	out, _ := command(append(append([]string{}, prefix...), "python3", "-c", fmt.Sprintf(`
import socket
try:
    c = socket.create_connection(("%s", %s), timeout=1); print(c.recv(64).decode().strip())
except Exception:
    pass
`, host, port))...).Output()
	return strings.TrimSpace(string(out))
}

// command is exec.Command for an argv slice.
func command(argv ...string) *exec.Cmd { return exec.Command(argv[0], argv[1:]...) }
