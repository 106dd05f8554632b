// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestIntegrationPastaExitDrain: no byte lost at exit. A server in pasta's
// namespace writes a file into its socket through a -t forward and exits
// at once: its last writes are still in the namespace kernel's send buffer
// when the command ends. pasta must keep translating until the host client
// has it all (SHA-256 equal), then exit with the command's status, every
// run. (Before, pasta exited with the command and the client got a clean
// EOF up to 2 MB short.)
func TestIntegrationPastaExitDrain(t *testing.T) {
	requireRoot(t)
	const (
		size = 64 << 20
		runs = 20
		port = 18501
	)
	file := filepath.Join(t.TempDir(), "data")
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	data = nil
	server := `import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("", ` + strconv.Itoa(port) + `)); s.listen(1); s.settimeout(20)
print("ready", flush=True)
c, _ = s.accept()
with open(sys.argv[1], "rb") as f:
    c.sendfile(f)
c.close()
`
	// From the host's loopback (pasta's splice path) and, every other
	// run, from its own address (the tap path), when it has one.
	addrs := []string{"127.0.0.1"}
	if dev, a, _, _ := hostOutbound(t); dev != "" {
		addrs = append(addrs, a)
	}
	for run := range runs {
		cmd, done, errOut := startPastaReady(t, pastaBin, "--config-net", "-t", strconv.Itoa(port), "-u", "none", "-T", "none", "-U", "none",
			"--", "python3", "-c", server, file)
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addrs[run%len(addrs)], strconv.Itoa(port)), 5*time.Second)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		c.SetDeadline(time.Now().Add(60 * time.Second))
		h := sha256.New()
		n, err := io.Copy(h, c)
		c.Close()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Fatalf("run %d: pasta still running 40 s after the transfer", run)
		}
		var got [32]byte
		h.Sum(got[:0])
		if err != nil || n != size || got != want {
			t.Fatalf("run %d (from %s): received %d of %d bytes (err %v), SHA-256 equal: %v; stderr:\n%s",
				run, addrs[run%len(addrs)], n, size, err, got == want, errOut.Bytes())
		}
		if st := cmd.ProcessState.ExitCode(); st != 0 {
			t.Fatalf("run %d: status %d; stderr:\n%s", run, st, errOut.Bytes())
		}
	}
	t.Logf("%d runs of %d MiB from %v, every byte arrived", runs, size>>20, addrs)
}
