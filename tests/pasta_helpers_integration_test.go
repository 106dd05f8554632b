// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pastaTimeout bounds every pasta invocation in these tests.
const pastaTimeout = 20 * time.Second

// ipAddr is the part of "ip -j addr" the tests read.
type ipAddr struct {
	Ifname   string   `json:"ifname"`
	Flags    []string `json:"flags"`
	Mtu      int      `json:"mtu"`
	Address  string   `json:"address"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
		Scope     string `json:"scope"`
	} `json:"addr_info"`
}

// ipRoute is the part of "ip -j route" the tests read.
type ipRoute struct {
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
}

func (a ipAddr) up() bool {
	for _, f := range a.Flags {
		if f == "UP" {
			return true
		}
	}
	return false
}

// has reports whether a carries addr/plen.
func (a ipAddr) has(addr string, plen int) bool {
	for _, ai := range a.AddrInfo {
		if ai.Local == addr && ai.Prefixlen == plen {
			return true
		}
	}
	return false
}

func findLink(links []ipAddr, name string) (ipAddr, bool) {
	for _, l := range links {
		if l.Ifname == name {
			return l, true
		}
	}
	return ipAddr{}, false
}

// splitJSON decodes the sections a command printed, one JSON array per
// line, in order.
func splitJSON(t *testing.T, out []byte, dst ...any) {
	t.Helper()
	var lines [][]byte
	for _, l := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) < len(dst) {
		t.Fatalf("want %d JSON lines, got:\n%s", len(dst), out)
	}
	for i, d := range dst {
		if err := json.Unmarshal(lines[i], d); err != nil {
			t.Fatalf("line %d: %v:\n%s", i, err, lines[i])
		}
	}
}

// inNsScript prints, one JSON array per line: ip -j addr, ip -j -4 route,
// ip -j -6 route (splitJSON skips the empty lines).
const inNsScript = "ip -j addr; echo; ip -j -4 route; echo; ip -j -6 route; echo"

// runPasta runs pasta with args and returns stdout, stderr and the exit
// status, bounded by pastaTimeout. prefix runs it through another program
// (ip netns exec NAME).
func runPasta(t *testing.T, cred *syscall.Credential, prefix []string, args ...string) (stdout, stderr []byte, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), pastaTimeout)
	defer cancel()
	argv := append(append(append([]string{}, prefix...), pastaBin), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "SHELL=/bin/sh"}
	}
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v: timed out after %v; stderr:\n%s", argv, pastaTimeout, e.Bytes())
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%v: %v", argv, err)
		}
	}
	return o.Bytes(), e.Bytes(), cmd.ProcessState.ExitCode()
}

// hostOutbound returns the host's default route interface, its first
// global IPv4 address and prefix length, and the gateway; dev is "" when
// there is no IPv4 default route.
func hostOutbound(t *testing.T, prefix ...string) (dev, addr string, plen int, gw string) {
	t.Helper()
	run := func(args ...string) []byte {
		argv := append(append([]string{}, prefix...), args...)
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
		return out
	}
	var routes []ipRoute
	if err := json.Unmarshal(run("ip", "-j", "-4", "route", "show", "default"), &routes); err != nil {
		t.Fatal(err)
	}
	if len(routes) == 0 {
		return "", "", 0, ""
	}
	dev, gw = routes[0].Dev, routes[0].Gateway
	var links []ipAddr
	if err := json.Unmarshal(run("ip", "-j", "-4", "addr", "show", "dev", dev), &links); err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		for _, ai := range l.AddrInfo {
			if ai.Scope == "global" {
				return dev, ai.Local, ai.Prefixlen, gw
			}
		}
	}
	return dev, "", 0, gw
}

// spawnGateway4 is the IPv4 gateway a namespace spawned by pasta sees
// (mapped to the host's loopback): the host's, or local mode's.
func spawnGateway4(t *testing.T) string {
	t.Helper()
	if dev, _, _, gw := hostOutbound(t); dev != "" {
		return gw
	}
	return "169.254.2.2"
}

// addNetns creates a named network namespace. On cleanup every process
// still in it is killed (by PID) and the namespace is removed.
func addNetns(t *testing.T, name string) string {
	t.Helper()
	exec.Command("ip", "netns", "del", name).Run()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		exec.Command("ip", "netns", "del", name).Run()
	})
	return name
}

// fakeHostNetns creates a namespace that plays the host: lo up, a veth pair
// (link and link+"p", both ends inside) with addr4/24 and addr6/64, default
// routes via gw4 and gw6 (which nothing answers), and ping sockets allowed
// for every group (gopasst opens them in the host's namespace). It is
// removed on cleanup, after every process in it is killed.
func fakeHostNetns(t *testing.T, name, link, addr4, gw4, addr6, gw6 string) string {
	t.Helper()
	ns := addNetns(t, name)
	for _, argv := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", link, "type", "veth", "peer", "name", link + "p"},
		{"link", "set", link + "p", "up"},
		{"link", "set", link, "up"},
		{"addr", "add", addr4 + "/24", "dev", link},
		{"-6", "addr", "add", addr6 + "/64", "dev", link, "nodad"},
		{"route", "add", "default", "via", gw4},
		{"-6", "route", "add", "default", "via", gw6, "dev", link},
	} {
		mustRun(t, append([]string{"ip", "-n", ns}, argv...)...)
	}
	mustRun(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
	return ns
}

func mustRun(t *testing.T, argv ...string) []byte {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v: %s", argv, err, out)
	}
	return out
}

// procState returns the state letter of pid ("R", "S", "Z", ...), or ""
// if there is no such process.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+3 > len(b) {
		return ""
	}
	return string(b[i+2 : i+3])
}

// exited reports whether pid has exited (gone, or a zombie waiting for
// its new parent, init, to reap it).
func exited(pid int) bool {
	s := procState(pid)
	return s == "" || s == "Z" || s == "X"
}

// waitExited polls until pid has exited or d passes.
func waitExited(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if exited(pid) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return exited(pid)
}

// readPidFile returns the PID in path and kills that process on cleanup.
func readPidFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("PID file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("PID file holds %q", b)
	}
	t.Cleanup(func() {
		if !exited(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid
}

// findChild returns the PID of the process that descends from ppid and
// whose command line is argv, polling up to d. Descends, not is a child:
// the launcher's engine process (pasta's sandboxed daemon) is the
// command's parent.
func findChild(ppid int, argv []string, d time.Duration) int {
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil || !bytes.Equal(cl, want) {
				continue
			}
			if descends(pid, ppid) {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// descends reports whether ancestor is among the parents of pid, walking
// at most 16 levels up.
func descends(pid, ancestor int) bool {
	for range 16 {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			return false
		}
		_, rest, ok := bytes.Cut(st, []byte("\nPPid:\t"))
		if !ok {
			return false
		}
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		if pid, err = strconv.Atoi(string(line)); err != nil || pid <= 1 {
			return false
		}
		if pid == ancestor {
			return true
		}
	}
	return false
}

// startWait starts cmd and returns a channel closed once it has exited
// (cmd.ProcessState is then set). On cleanup cmd is killed by PID, if
// still running, and waited for.
func startWait(t *testing.T, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return done
}

// startPastaReady runs argv (a pasta command line, maybe behind a prefix) from
// "/" with startWait, and waits until the command in the namespace prints
// "ready" on stdout, at most 15 s. It returns the command, startWait's
// channel and pasta's stderr.
func startPastaReady(t *testing.T, argv ...string) (*exec.Cmd, <-chan struct{}, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := startWait(t, cmd)
	awaitReady(t, stdout, 15*time.Second, &stderr)
	return cmd, done, &stderr
}

// awaitReady fails t unless the next line on r is "ready" within d;
// stderr is shown on failure.
func awaitReady(t *testing.T, r io.Reader, d time.Duration, stderr *bytes.Buffer) {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if strings.TrimSpace(l) != "ready" {
			t.Fatalf("server: %q; stderr:\n%s", l, stderr.Bytes())
		}
	case <-time.After(d):
		t.Fatalf("server not ready after %v; stderr:\n%s", d, stderr.Bytes())
	}
}
