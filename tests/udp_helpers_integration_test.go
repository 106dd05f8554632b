// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// Helpers for the UDP and DNS tests: a private network namespace playing
// the host (so that ports such as 53 on its loopback are the test's own),
// and pasta (gopasst's or the C one, same command line) attached to a
// second namespace held by a capability-less sleep, as the bench harness
// (/work/shared/bench/netbench.sh) starts it.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The private host's addresses: pasta copies them into the namespace and
// maps the gateways to the host's loopback.
const (
	uhAddr4 = "10.77.1.5"
	uhGw4   = "10.77.1.1"
	uhAddr6 = "2001:db8:77::5"
	uhGw6   = "2001:db8:77::1"
)

var uhSeq atomic.Int32

// udpHostNs creates a network namespace to play the host: lo up, and a
// veth pair (both ends inside) with uhAddr4/24 and uhAddr6/64 and default
// routes via uhGw4 and uhGw6, which nothing answers. Every process in it
// is killed, and it is removed, on cleanup.
func udpHostNs(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	return fakeHostNetns(t, fmt.Sprintf("gpuh%d-%d", os.Getpid(), uhSeq.Add(1)), "up0",
		uhAddr4, uhGw4, uhAddr6, uhGw6)
}

// hostNsPath is the bind mount of a namespace made by "ip netns add".
func hostNsPath(ns string) string { return "/var/run/netns/" + ns }

// pastaNs is a pasta attached to a namespace held by a sleep.
type pastaNs struct {
	holder int    // the sleep holding the namespace
	pid    int    // pasta's PID from -P: the process that holds the flows
	log    string // pasta's stdout and stderr
	label  string
}

// startPastaNs starts bin (a pasta-compatible binary) in host namespace
// hostNs, as the bench harness does:
//
//	BIN -f -q --runas 0 --config-net ARGS -P PIDFILE --netns /proc/HOLDER/ns/net
//
// and waits until the namespace has its default route. Then a ping to
// the gateway teaches pasta the namespace's MAC address (see the report:
// gopasst sends to the broadcast MAC until then, which the namespace's TCP
// ignores). Both processes are killed by PID on cleanup.
func startPastaNs(t *testing.T, hostNs, bin, label string, args ...string) *pastaNs {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	holder := exec.Command("ip", "netns", "exec", hostNs, "unshare", "--net", "--",
		"setpriv", "--bounding-set=-all", "--inh-caps=-all", "sleep", "3600")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	p := &pastaNs{holder: holder.Process.Pid, log: filepath.Join(dir, label+".log"), label: label}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	hostIno := nsIno(t, "/proc/self/ns/net")
	deadline := time.Now().Add(5 * time.Second)
	for {
		// ip netns exec and unshare exec in place: the holder's PID is
		// the sleep's once its namespace differs from ours.
		if ino, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p.holder)); err == nil && ino != hostIno {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.holder)); strings.TrimSpace(string(b)) == "sleep" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("namespace holder did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, label+".pid")
	argv := append([]string{"ip", "netns", "exec", hostNs, bin, "-f", "-q", "--runas", "0", "--config-net"}, args...)
	argv = append(argv, "-P", pidFile, "--netns", fmt.Sprintf("/proc/%d/ns/net", p.holder))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		if p.pid > 0 && !exited(p.pid) {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s log:\n%s", label, lastLines(string(b), 30))
		}
	})
	t.Logf("%s: %s", label, strings.Join(argv[4:], " "))
	deadline = time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				p.pid = pid
			}
		}
		if p.pid > 0 {
			out, _ := p.cmd(context.Background(), "ip", "-4", "route", "show", "default").Output()
			if bytes.Contains(out, []byte("via")) {
				break
			}
		}
		select {
		case <-done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited at start:\n%s", label, b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s: no PID file or default route after 15 s:\n%s", label, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd(context.Background(), "ping", "-c", "1", "-W", "1", uhGw4).Run()
	return p
}

func nsIno(t *testing.T, path string) string {
	t.Helper()
	s, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cmd runs argv inside pasta's namespace.
func (p *pastaNs) cmd(ctx context.Context, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(p.holder), "-n", "--"}, argv...)...)
}

// nsPath is the namespace's file, for setns.
func (p *pastaNs) nsPath() string { return fmt.Sprintf("/proc/%d/ns/net", p.holder) }

// fds counts the open file descriptors of pasta's process.
func (p *pastaNs) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid))
	if err != nil {
		t.Fatalf("%s fds: %v", p.label, err)
	}
	return len(ents)
}

// hostCmd runs argv in the private host namespace.
func hostCmd(ctx context.Context, hostNs string, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", hostNs}, argv...)...)
}

// startBG starts cmd in the background; it is killed by PID on cleanup.
func startBG(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	var out syncBuffer
	if cmd.Stdout == nil {
		cmd.Stdout, cmd.Stderr = &out, &out
	}
	startWait(t, cmd)
	return cmd
}

// waitListening polls ss in the namespace run by prefix until a socket of
// kind ("-ltn" or "-lun") is bound to port, or d passes.
func waitListening(t *testing.T, prefix []string, kind string, port int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		argv := append(append([]string{}, prefix...), "ss", "-H", kind, fmt.Sprintf("sport = :%d", port))
		out, _ := exec.Command(argv[0], argv[1:]...).Output()
		if len(bytes.TrimSpace(out)) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s port %d after %v", kind, port, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileFromFd wraps fd in an *os.File for net.FilePacketConn, which
// duplicates it; the caller closes the file after.
func fileFromFd(fd int) *os.File { return os.NewFile(uintptr(fd), "sock") }
