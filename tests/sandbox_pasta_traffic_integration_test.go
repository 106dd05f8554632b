// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationSandboxPastaTCPBulk moves 4 MiB each way through a TCP
// connection from the namespace to an echo server on the host's loopback,
// under the strict filter (SECCOMP_RET_KILL_PROCESS): a syscall missing from
// seccomp.profile on the data path (window queries, timers, half close)
// kills pasta with SIGSYS and fails the test.
func TestIntegrationSandboxPastaTCPBulk(t *testing.T) {
	requireRoot(t)
	gw := spawnGateway4(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.Copy(c, c) // echo until the client's FIN
		c.(*net.TCPConn).CloseWrite()
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	script := `import hashlib, socket, threading
data = bytes(range(256)) * 16384
s = socket.create_connection(("` + gw + `", ` + port + `), timeout=15)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
th = threading.Thread(target=send)
th.start()
got = bytearray()
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
th.join()
print(len(got), hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest())`
	out, errOut, st := runPasta(t, nil, nil, "--config-net", "--", "python3", "-c", script)
	if st != 0 || strings.TrimSpace(string(out)) != "4194304 True" {
		t.Errorf("status %d, output %q (want \"4194304 True\"); stderr:\n%s", st, out, errOut)
	}
}
