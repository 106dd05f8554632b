// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers of the TCP acceptance tests (tcp_*_integration_test.go): a
// named namespace served by the pasta binary as a daemon, sockets opened
// inside it from this process (setns on a locked thread), and a
// deterministic byte stream hashed on both ends.

// tcpNet is a namespace served by a pasta daemon.
type tcpNet struct {
	name   string // netns name (ip netns)
	path   string // /run/netns/NAME
	ifname string // the tap inside
	pid    int    // pasta's engine process
	gw4    string // the gateway the namespace sees, mapped to host 127.0.0.1
	gw6    string // the same for IPv6 (→ ::1); "" without IPv6
	addr4  string // the namespace's (and the host's) IPv4 address
	addr6  string // the namespace's global IPv6 address; "" without
	nsFd   int
}

// startTCPNet creates namespace name and starts pasta on it with
// --config-net and extra options (-t PORT, -m MTU, ...). Everything is
// removed on cleanup: the daemon by PID, then the namespace.
func startTCPNet(t *testing.T, name string, extra ...string) *tcpNet {
	t.Helper()
	requireRoot(t)
	n := &tcpNet{name: addNetns(t, name), path: "/run/netns/" + name, ifname: "gptcp"}
	pidFile := filepath.Join(t.TempDir(), "pasta.pid")
	args := append([]string{"--config-net", "-I", n.ifname, "-P", pidFile}, extra...)
	args = append(args, "--netns", n.name)
	_, errOut, st := runPasta(t, nil, nil, args...)
	if st != 0 {
		t.Fatalf("pasta %v: status %d: %s", args, st, errOut)
	}
	n.pid = readPidFile(t, pidFile)
	n.attach(t)
	return n
}

// attach brings the namespace's loopback up, opens the namespace for in,
// and waits up to 5 s for pasta to configure its addresses and routes.
func (n *tcpNet) attach(t *testing.T) {
	t.Helper()
	mustRun(t, "ip", "-n", n.name, "link", "set", "lo", "up")
	fd, err := unix.Open(n.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	n.nsFd = fd
	t.Cleanup(func() { unix.Close(fd) })

	// Addresses and gateways, as configured; IPv6 may take a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n.gw4 = routeVia(t, n.name, "-4")
		n.gw6 = routeVia(t, n.name, "-6")
		n.addr4 = globalAddr(t, n.name, n.ifname, "-4")
		n.addr6 = globalAddr(t, n.name, n.ifname, "-6")
		if (n.gw4 != "" && n.addr4 != "" && n.gw6 != "" && n.addr6 != "") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n.gw4 == "" || n.addr4 == "" {
		t.Fatalf("namespace %s: no IPv4 default route or address", n.name)
	}
}

// routeVia returns the gateway of the default route in namespace ns.
func routeVia(t *testing.T, ns, family string) string {
	out, _ := exec.Command("ip", "-n", ns, family, "route", "show", "default").Output()
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "via" {
			return f[i+1]
		}
	}
	return ""
}

// globalAddr returns the first global, usable address of dev in ns.
func globalAddr(t *testing.T, ns, dev, family string) string {
	out, _ := exec.Command("ip", "-n", ns, "-o", family, "addr", "show", "dev", dev, "scope", "global", "-tentative").Output()
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "inet" || f[i] == "inet6" {
			a, _, _ := strings.Cut(f[i+1], "/")
			return a
		}
	}
	return ""
}

// in runs fn with the calling goroutine's thread inside the namespace:
// sockets fn creates (net.Dial, net.Listen with IP literals) live there.
func (n *tcpNet) in(t *testing.T, fn func()) {
	runtime.LockOSThread()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Error(err)
		return
	}
	defer unix.Close(self)
	if err := unix.Setns(n.nsFd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Error(err)
		return
	}
	fn()
	if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
		return // the thread stays locked and dies with the goroutine
	}
	runtime.UnlockOSThread()
}

// dial connects from inside the namespace.
func (n *tcpNet) dial(t *testing.T, network, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	var err error
	n.in(t, func() { c, err = net.DialTimeout(network, addr, timeout) })
	return c, err
}

// listen listens inside the namespace.
func (n *tcpNet) listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	var err error
	n.in(t, func() { l, err = net.Listen(network, addr) })
	if err != nil {
		t.Fatalf("listen in %s on %s: %v", n.name, addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// exec runs argv inside the namespace, bounded by d.
func (n *tcpNet) exec(t *testing.T, d time.Duration, argv ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name}, argv...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.Bytes(), err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return out.Bytes(), fmt.Errorf("%v: timed out after %v", argv, d)
	}
}

// fdCount returns the number of open descriptors of pid.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("fds of pasta %d: %v", pid, err)
	}
	return len(ents)
}

// waitFds waits up to d for pid's descriptor count to drop to want and
// returns the last count.
func waitFds(t *testing.T, pid, want int, d time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		n := fdCount(t, pid)
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tcpPattern is the stream the tests send: a pseudo-random block whose
// length (a prime) is no multiple of any segment size, repeated, so that
// a segment delivered at the wrong offset changes the hash.
var tcpPattern = func() []byte {
	const p = 1048573
	b := make([]byte, 2*p)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	copy(b[p:], b[:p])
	return b[:2*p]
}()

const tcpPatternPeriod = 1048573

// sendPattern writes n bytes of the pattern to w and returns their
// SHA-256.
func sendPattern(w io.Writer, n int64) (string, error) {
	h := sha256.New()
	off := 0
	for n > 0 {
		k := int(min(n, 256<<10))
		b := tcpPattern[off : off+k]
		if _, err := w.Write(b); err != nil {
			return "", err
		}
		h.Write(b)
		n -= int64(k)
		off = (off + k) % tcpPatternPeriod
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// recvHash reads r to EOF and returns the byte count and SHA-256.
func recvHash(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, r, make([]byte, 256<<10))
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// freePort returns a TCP port free on the host's loopback (v4 and v6).
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p > 1024 {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// hostV6 returns the host's global IPv6 address on its default route's
// interface, "" if none.
func hostV6() string {
	out, _ := exec.Command("ip", "-6", "route", "show", "default").Output()
	f := strings.Fields(string(out))
	dev := ""
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "dev" {
			dev = f[i+1]
		}
	}
	if dev == "" {
		return ""
	}
	out, _ = exec.Command("ip", "-o", "-6", "addr", "show", "dev", dev, "scope", "global", "-tentative").Output()
	f = strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "inet6" {
			a, _, _ := strings.Cut(f[i+1], "/")
			return a
		}
	}
	return ""
}

// lossy drops 1% of the frames each way on the namespace's tap
// (nftables numgen; this kernel has no netem).
func (n *tcpNet) lossy(t *testing.T) {
	t.Helper()
	rules := fmt.Sprintf(`table inet gploss {
	chain out { type filter hook output priority 0; oifname %q numgen random mod 100 0 counter drop; }
	chain in { type filter hook input priority 0; iifname %q numgen random mod 100 0 counter drop; }
}
`, n.ifname, n.ifname)
	cmd := exec.Command("ip", "netns", "exec", n.name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
}

// lossCounters returns the nftables drop counters (packets out, in).
func (n *tcpNet) lossCounters(t *testing.T) string {
	out, _ := exec.Command("ip", "netns", "exec", n.name, "nft", "list", "table", "inet", "gploss").Output()
	var c []string
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "counter packets "); i >= 0 {
			c = append(c, strings.Fields(l[i:])[2])
		}
	}
	return strings.Join(c, "/")
}

// diag returns the kernel's view of the TCP sockets on both sides, for
// failure messages.
func (n *tcpNet) diag() string {
	ns, _ := exec.Command("ip", "netns", "exec", n.name, "ss", "-tnio").CombinedOutput()
	host, _ := exec.Command("ss", "-tnio", "state", "established").CombinedOutput()
	return "namespace:\n" + string(ns) + "host:\n" + string(host)
}
