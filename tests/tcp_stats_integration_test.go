// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The handler counters on pasta's stats line (--stats): the TCP table
// grows to the shared flow budget, and the retransmission and refusal
// counters move when the test provokes them.

// startStatsNet starts pasta in the foreground (--stats needs it) on a
// new namespace, with a stats line every second, its output in a file,
// and returns the namespace (as startTCPNet's) and the output's path.
// pasta is stopped with SIGTERM on cleanup, killed after 5 s.
func startStatsNet(t *testing.T, name string, extra ...string) (*tcpNet, string) {
	t.Helper()
	requireRoot(t)
	n := &tcpNet{name: addNetns(t, name), path: "/run/netns/" + name, ifname: "gptcp"}
	out := filepath.Join(t.TempDir(), "pasta.out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-f", "--stats", "1", "--config-net", "-I", n.ifname}, extra...)
	cmd := exec.Command(pastaBin, append(args, "--netns", n.name)...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = f, f, "/"
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	n.pid = cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	n.attach(t)
	return n, out
}

var statsLineRe = regexp.MustCompile(`stats: [^"\n]*`)

// waitStatsLog waits up to d for a stats line in the output at path that ok
// accepts and returns its fields; on timeout it fails with the last line.
func waitStatsLog(t *testing.T, path string, d time.Duration, ok func(map[string]uint64) bool) map[string]uint64 {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for {
		b, _ := os.ReadFile(path)
		all := statsLineRe.FindAllString(string(b), -1)
		if len(all) > 0 {
			last = all[len(all)-1]
			if m := parseStats(last); ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stats line as wanted within %v; last:\n%s", d, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// raiseNofile raises this process's RLIMIT_NOFILE (soft and hard) to at
// least n for the test, so that it and the pasta it starts (which
// inherits it) may hold n descriptors each. Without CAP_SYS_RESOURCE the
// hard limit cannot grow: then it must be n already.
func raiseNofile(t *testing.T, n uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Cur >= n {
		return
	}
	lim := syscall.Rlimit{Cur: n, Max: max(n, old.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("RLIMIT_NOFILE %d/%d, cannot raise it to %d: %v", old.Cur, old.Max, n, err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// TestIntegrationTCPBeyond8192 opens 10,000 concurrent connections from
// the namespace to a server on the host's loopback (through the mapped
// gateway), more than the 8,192 the TCP table once held: every one is
// established and echoes a byte while all are open, and the stats line
// shows them all (tcp_flows, flows) under flows_max=131071, the shared
// budget that is the enforced limit. Closed, they leave the table.
// Memory of the engine process (VmRSS; the PID file names it): under
// 16 MiB idle after start, under 64 MiB with the 10,000 open, and back
// within 2 MiB of the start once they are closed.
func TestIntegrationTCPBeyond8192(t *testing.T) {
	const conns, workers = 10000, 8
	const idleMax, openMax, backMax = 16 << 10, 64 << 10, 2 << 10 // KiB
	// The client ends of the connections are ours, the server ends
	// echod's (which inherits the limit).
	raiseNofile(t, conns+1000)
	pidFile := filepath.Join(t.TempDir(), "pasta.pid")
	n, log := startStatsNet(t, fmt.Sprintf("gptcpx%d", os.Getpid()), "-t", "none", "-T", "none", "-P", pidFile)
	engine := readPidFile(t, pidFile)
	waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool { return true })
	rss0 := memKB(t, engine, "VmRSS")
	t.Logf("engine %d: VmRSS %d KiB idle after start", engine, rss0)
	t.Logf("RssAnon %d KiB, RssFile %d KiB", memKB(t, engine, "RssAnon"), memKB(t, engine, "RssFile"))
	if rss0 > idleMax {
		t.Errorf("idle engine VmRSS %d KiB, want under %d", rss0, idleMax)
	}
	port := freePort(t)
	startProc(t, echodBin(t), "-tcp", strconv.Itoa(port))
	waitSocket(t, port)
	addr := net.JoinHostPort(n.gw4, strconv.Itoa(port))
	start := time.Now()

	cs := make([]net.Conn, conns)
	defer func() {
		for _, c := range cs {
			if c != nil {
				c.Close()
			}
		}
	}()
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.in(t, func() { // sockets made on this thread live in the namespace
				for i := w; i < conns; i += workers {
					c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
					if err != nil {
						errs <- fmt.Errorf("connection %d: %v", i, err)
						return
					}
					cs[i] = c
				}
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var lim syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		t.Fatalf("%v (after %v; this process holds %d descriptors, RLIMIT_NOFILE %d)",
			err, time.Since(start), fdCount(t, os.Getpid()), lim.Cur)
	}
	t.Logf("%d connections established in %v", conns, time.Since(start))

	// Served: each echoes one byte while all of them are open.
	errs = make(chan error, conns)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			b := []byte{byte(i)}
			if _, err := c.Write(b); err != nil {
				errs <- fmt.Errorf("connection %d: write: %v", i, err)
				return
			}
			if _, err := io.ReadFull(c, b); err != nil || b[0] != byte(i) {
				errs <- fmt.Errorf("connection %d: echo %v, %v", i, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failConns(t, errs, conns, "not served")
	t.Logf("%d connections served after %v", conns, time.Since(start))

	m := waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool { return m["tcp_flows"] >= conns })
	if m["tcp_flows"] != conns || m["flows"] < conns || m["flows_max"] != 131071 {
		t.Fatalf("stats: tcp_flows=%d flows=%d flows_max=%d, want %d, at least %d, 131071",
			m["tcp_flows"], m["flows"], m["flows_max"], conns, conns)
	}
	if m["tcp_opens"] < conns || m["tcp_refused"] != 0 {
		t.Fatalf("stats: tcp_opens=%d tcp_refused=%d, want at least %d, 0", m["tcp_opens"], m["tcp_refused"], conns)
	}

	rssOpen := memKB(t, engine, "VmRSS")
	t.Logf("engine VmRSS %d KiB with %d connections open", rssOpen, conns)
	if rssOpen > openMax {
		t.Errorf("engine VmRSS %d KiB with %d connections, want under %d", rssOpen, conns, openMax)
	}

	for i, c := range cs {
		c.Close()
		cs[i] = nil
	}
	waitStatsLog(t, log, 15*time.Second, func(m map[string]uint64) bool { return m["tcp_flows"] == 0 && m["flows"] == 0 })
	t.Logf("all closed after %v", time.Since(start))
	// The engine gives memory back when its flows are gone: within a
	// few seconds (bounded wait).
	rssEnd := memKB(t, engine, "VmRSS")
	for deadline := time.Now().Add(10 * time.Second); rssEnd > rss0+backMax && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		rssEnd = memKB(t, engine, "VmRSS")
	}
	t.Logf("engine VmRSS %d KiB after closing (start %d)", rssEnd, rss0)
	t.Logf("RssAnon %d KiB, RssFile %d KiB", memKB(t, engine, "RssAnon"), memKB(t, engine, "RssFile"))
	if rssEnd > rss0+backMax {
		t.Errorf("engine VmRSS %d KiB after closing all, start %d: more than %d KiB above", rssEnd, rss0, backMax)
	}
}

// TestIntegrationTCPStatsCounters provokes a refusal and a retransmission
// and reads both from pasta's stats line: a connection from the
// namespace to a closed host port is refused (tcp_refused, and the RST
// that tells the client, tcp_rst); data from the host towards the
// namespace, dropped by nftables in the namespace for 3 s, is resent
// after pasta's ACK timeout (tcp_timeouts, tcp_retrans) and arrives
// once the rule is gone.
func TestIntegrationTCPStatsCounters(t *testing.T) {
	n, log := startStatsNet(t, fmt.Sprintf("gptcps%d", os.Getpid()), "-t", "none", "-T", "none")

	// Refusal: a port nobody listens on.
	waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool { return m["tcp_refused"] == 0 })
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, err = n.dial(t, "tcp4", net.JoinHostPort(n.gw4, strconv.Itoa(closed)), 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect to closed port %d: %v, want ECONNREFUSED", closed, err)
	}
	waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool {
		return m["tcp_refused"] == 1 && m["tcp_rst"] >= 1
	})

	// Retransmission: the namespace drops what pasta sends it from the
	// server's port until the rule is removed.
	srv, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.Addr().(*net.TCPAddr).Port
	c, err := n.dial(t, "tcp4", net.JoinHostPort(n.gw4, strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := srv.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	before := waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool { return m["tcp_flows"] == 1 })
	if out, err := n.exec(t, 5*time.Second, "nft", "add table inet gpdrop; add chain inet gpdrop in { type filter hook input priority 0; }; add rule inet gpdrop in tcp sport "+strconv.Itoa(port)+" counter drop"); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	msg := []byte("sent while the namespace drops it")
	if _, err := sc.Write(msg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // past the 2 s ACK timeout
	dropped, _ := n.exec(t, 5*time.Second, "nft", "list", "table", "inet", "gpdrop")
	if out, err := n.exec(t, 5*time.Second, "nft", "delete", "table", "inet", "gpdrop"); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
		t.Fatalf("read %q, %v; want %q\n%s", got, err, msg, dropped)
	}
	m := waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool {
		return m["tcp_timeouts"] > before["tcp_timeouts"] && m["tcp_retrans"] > before["tcp_retrans"]
	})
	t.Logf("tcp_refused=%d tcp_rst=%d tcp_timeouts=%d tcp_retrans=%d; nft:\n%s",
		m["tcp_refused"], m["tcp_rst"], m["tcp_timeouts"], m["tcp_retrans"], dropped)
}
