// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestIntegrationPastaExitReset: a transfer pasta must cut short is
// reset towards the host peer, never closed with a FIN that makes it look
// complete. A server in pasta's namespace accepts one connection through a
// -t forward, writes until every buffer on the way is full (the host
// client does not read), gives up after 2 s without progress and exits
// with status 7, its unsent data still queued in the namespace's kernel.
// pasta keeps translating for its drain bound (exitDrain, 30 s in
// cmd/internal/pasta/drain.go), then resets what is left and exits with
// the command's status. Only then does the client read: after the bytes
// already in its receive buffer it must get ECONNRESET, not an EOF. Both
// paths: from the host's loopback (spliced) and from the host's own
// address (tap); the subtests run in parallel, so the test costs one
// drain bound (~35 s), not two.
func TestIntegrationPastaExitReset(t *testing.T) {
	requireRoot(t)
	const drainBound = 30 * time.Second // exitDrain in cmd/internal/pasta
	cases := []struct {
		name string
		addr string
		port int
	}{
		{"spliced", "127.0.0.1", 18511},
	}
	if dev, a, _, _ := hostOutbound(t); dev != "" && a != "" {
		cases = append(cases, struct {
			name string
			addr string
			port int
		}{"tap", a, 18512})
	} else {
		t.Log("no global IPv4 address on the host: tap case skipped")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testPastaExitReset(t, tc.addr, tc.port, drainBound)
		})
	}
}

// testPastaExitReset runs one case of TestIntegrationPastaExitReset: the
// host client connects to addr:port.
func testPastaExitReset(t *testing.T, addr string, port int, drainBound time.Duration) {
	const size = 64 << 20 // far more than the socket buffers and pipes hold
	server := `import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("", ` + strconv.Itoa(port) + `)); s.listen(1); s.settimeout(20)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(2)
buf = bytes(1 << 20); sent = 0
try:
    while sent < ` + strconv.Itoa(size) + `:
        sent += c.send(buf)
except socket.timeout:
    pass
print("server: sent", sent, "bytes, exiting", file=sys.stderr, flush=True)
c.close()
sys.exit(7)
`
	cmd, done, errOut := startPastaReady(t, pastaBin, "--config-net", "-t", strconv.Itoa(port), "-u", "none", "-T", "none", "-U", "none",
		"--", "python3", "-c", server)
	start := time.Now()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Do not read until pasta has given up.
	select {
	case <-done:
	case <-time.After(drainBound + 20*time.Second):
		t.Fatalf("pasta still running %v after the connection; stderr:\n%s", time.Since(start), errOut.Bytes())
	}
	exited := time.Since(start)
	// The server stalls 2 s before it exits, then pasta drains for the
	// bound: an earlier exit means pasta did not hold the connection.
	if exited < drainBound {
		t.Errorf("pasta exited %v after the connection, before its drain bound %v", exited, drainBound)
	}
	if st := cmd.ProcessState.ExitCode(); st != 7 {
		t.Errorf("pasta exit status %d, want the command's 7", st)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1<<20)
	var n int
	for range size/len(buf) + 1 {
		var m int
		m, err = c.Read(buf)
		n += m
		if err != nil {
			break
		}
	}
	switch {
	case errors.Is(err, unix.ECONNRESET):
	case errors.Is(err, io.EOF):
		t.Errorf("client got a clean EOF after %d bytes: a cut transfer looks complete", n)
	default:
		t.Errorf("client read %d bytes, then %v, want ECONNRESET", n, err)
	}
	if n >= size {
		t.Errorf("client read all %d bytes: the transfer was not cut", n)
	}
	if t.Failed() {
		t.Logf("pasta stderr:\n%s", errOut.Bytes())
		return
	}
	t.Logf("%s:%d: pasta exited %v after the connection (status 7), client read %d bytes then ECONNRESET",
		addr, port, exited.Round(10*time.Millisecond), n)
}
