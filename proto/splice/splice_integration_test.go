// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package splice

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopasst/netns"
)

// nsSeq numbers the namespaces of one test binary.
var nsSeq atomic.Int32

// testNetns creates a network namespace with lo up, and a netns.Worker in
// it; both go away at cleanup.
func testNetns(t *testing.T) (name string, w *netns.Worker) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	name = fmt.Sprintf("gpsplice%d_%d", os.Getpid()%100000, nsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	w, err := netns.NewWorker("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return name, w
}

// nsCommand runs argv inside namespace name, killed at the deadline.
func nsCommand(t *testing.T, name string, timeout time.Duration, argv ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", name}, argv...)...)
}

// pyExchange is run inside the namespace: it connects to host:port, sends
// n bytes of random.Random(seed) while reading to EOF, shuts down its
// write side once sent, and prints the SHA-256 of what it sent and got.
const pyExchange = `
import hashlib, random, socket, sys, threading
host, port, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection((host, port), timeout=60)
data = random.Random(seed).randbytes(n)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
th = threading.Thread(target=send); th.start()
h = hashlib.sha256(); got = 0
while True:
    b = s.recv(1 << 20)
    if not b: break
    h.update(b); got += len(b)
th.join()
print(hashlib.sha256(data).hexdigest(), h.hexdigest(), got)
`

func TestIntegrationExchange64MiB(t *testing.T) {
	const n = 64 << 20
	tests := []struct {
		name, network, host string
	}{
		{"IPv4", "tcp4", "127.0.0.1"},
		{"IPv6", "tcp6", "::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns, w := testNetns(t)
			base := fdCount(t)
			srvRes := make(chan result, 1)
			port := server(t, tc.network, func(c *net.TCPConn) {
				_ = c.SetDeadline(time.Now().Add(60 * time.Second))
				srvRes <- exchange(c, n, 99)
			})
			l := startLoop(t, Config{NsSocket: w.Socket})
			lport := l.listen(t, netip.Addr{}, port)

			out, err := nsCommand(t, ns, 90*time.Second, "python3", "-c", pyExchange,
				tc.host, itoa(lport), fmt.Sprint(n), "5").CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v: %s", err, out)
			}
			f := strings.Fields(string(out))
			if len(f) != 3 {
				t.Fatalf("client output %q", out)
			}
			srv := <-srvRes
			if srv.rdErr != nil || srv.writeErr != nil {
				t.Fatalf("server: %v %v", srv.rdErr, srv.writeErr)
			}
			if f[0] != hex.EncodeToString(srv.got[:]) || srv.nGot != n {
				t.Fatalf("namespace → host: client sent %s, server got %x (%d bytes)", f[0], srv.got, srv.nGot)
			}
			if f[1] != hex.EncodeToString(srv.sent[:]) || f[2] != fmt.Sprint(n) {
				t.Fatalf("host → namespace: server sent %x, client got %s (%s bytes)", srv.sent, f[1], f[2])
			}
			l.waitLen(t, 0)
			st, _ := l.stats()
			if st.Closed != 1 || st.BytesToHost != n || st.BytesToNs != n {
				t.Fatalf("stats %+v", st)
			}
			t.Logf("pipe size %d, stats %+v", l.h.PipeSize(), st)
			waitFds(t, base+1+1+2) // epoll, server listener, 2 listeners
		})
	}
}

// pyHalfClose sends a request, shuts down its write side, and prints what
// comes back after that.
const pyHalfClose = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"question")
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(4096)
    if not b: break
    out += b
print(out.decode())
`

func TestIntegrationHalfClose(t *testing.T) {
	ns, w := testNetns(t)
	port := server(t, "tcp4", func(c *net.TCPConn) {
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		b, err := io.ReadAll(c) // returns at the client's FIN
		if err != nil {
			return
		}
		c.Write([]byte("answer to " + string(b)))
	})
	l := startLoop(t, Config{NsSocket: w.Socket})
	lport := l.listen(t, netip.Addr{}, port)
	out, err := nsCommand(t, ns, 30*time.Second, "python3", "-c", pyHalfClose, itoa(lport)).CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "answer to question" {
		t.Fatalf("client got %q", got)
	}
	l.waitLen(t, 0)
}

// pyMany opens k connections at once, each echoing m bytes, and prints
// how many came back intact.
const pyMany = `
import os, socket, sys, threading
port, k, m = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ok = []
def one():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    data = os.urandom(m)
    th = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR))); th.start()
    got = b""
    while True:
        b = s.recv(65536)
        if not b: break
        got += b
    th.join(); s.close()
    if got == data: ok.append(1)
ts = [threading.Thread(target=one) for _ in range(k)]
[t.start() for t in ts]; [t.join() for t in ts]
print(len(ok))
`

func TestIntegrationManyConnections(t *testing.T) {
	const k = 200
	ns, w := testNetns(t)
	base := fdCount(t)
	port := server(t, "tcp4", func(c *net.TCPConn) {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		echo(c)
	})
	l := startLoop(t, Config{NsSocket: w.Socket, Capacity: k})
	lport := l.listen(t, netip.Addr{}, port)
	out, err := nsCommand(t, ns, 60*time.Second, "python3", "-c", pyMany, itoa(lport), fmt.Sprint(k), "100000").CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != fmt.Sprint(k) {
		t.Fatalf("%s of %d connections intact", got, k)
	}
	l.waitLen(t, 0)
	if st, _ := l.stats(); st.Accepted != k || st.Closed != k {
		t.Fatalf("stats %+v", st)
	}
	waitFds(t, base+1+1+2)
}

// TestIntegrationCurlHTTPServer fetches a file from python's http.server on
// the host's loopback with curl inside the namespace, through -T.
func TestIntegrationCurlHTTPServer(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	ns, w := testNetns(t)
	dir := t.TempDir()
	body := strings.Repeat("gopasst splice\n", 100000)
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	srv := exec.Command("python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, itoa(port))
	stderr, _ := srv.StderrPipe()
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	go io.Copy(io.Discard, stderr)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Serving HTTP") {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("http.server did not start")
	}

	l := startLoop(t, Config{NsSocket: w.Socket})
	lport := l.listen(t, netip.Addr{}, port)
	out, err := nsCommand(t, ns, 30*time.Second, "curl", "-sS", "--max-time", "20",
		fmt.Sprintf("http://127.0.0.1:%d/f.txt", lport)).Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	if sha256.Sum256(out) != sha256.Sum256([]byte(body)) {
		t.Fatalf("curl got %d bytes, want %d", len(out), len(body))
	}
	l.waitLen(t, 0)
}
