// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationPastaTCPToHostLoopback is an end-to-end smoke test of the
// wiring in cmd/internal/pasta (tap, engine, TCP handler): a connection from the
// namespace to the gateway address reaches a listener on the host's
// 127.0.0.1 (the gateway is mapped to host loopback by default).
func TestIntegrationPastaTCPToHostLoopback(t *testing.T) {
	requireRoot(t)
	gw := spawnGateway4(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(15 * time.Second))
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("hello-from-host\n"))
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	script := `import socket
s = socket.create_connection(("` + gw + `", ` + port + `), timeout=5)
print(s.recv(100).decode().strip())`
	out, errOut, st := runPasta(t, nil, nil, "--config-net", "--", "python3", "-c", script)
	if st != 0 || strings.TrimSpace(string(out)) != "hello-from-host" {
		t.Errorf("status %d, output %q; stderr:\n%s", st, out, errOut)
	}
}
