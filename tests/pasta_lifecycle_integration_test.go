// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// tapUp reports whether link ifname exists and is UP in the namespace
// reached by nsArgs (e.g. "ip -n NAME" or "nsenter -t PID -n ip").
func tapUp(t *testing.T, ipCmd []string, ifname string) bool {
	t.Helper()
	argv := append(append([]string{}, ipCmd...), "-j", "addr")
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	var links []ipAddr
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatal(err)
	}
	l, ok := findLink(links, ifname)
	return ok && l.up()
}

// TestIntegrationPastaNetnsDaemon: pasta --netns returns only once the tap
// is up, writes the daemon's PID, and the daemon exits within 2 s of
// "ip netns del".
func TestIntegrationPastaNetnsDaemon(t *testing.T) {
	requireRoot(t)
	ns := addNetns(t, "gplife")
	pidFile := filepath.Join(t.TempDir(), "pasta.pid")
	_, errOut, st := runPasta(t, nil, nil, "--netns", ns, "-I", "gptap", "--pid", pidFile)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	pid := readPidFile(t, pidFile)
	if !tapUp(t, []string{"ip", "-n", ns}, "gptap") {
		t.Fatal("tap not up when pasta returned")
	}
	if exited(pid) {
		t.Fatal("daemon not running")
	}
	mustRun(t, "ip", "netns", "del", ns)
	if !waitExited(pid, 2*time.Second) {
		t.Fatalf("daemon %d still running 2 s after ip netns del (state %s)", pid, procState(pid))
	}
}

// TestIntegrationPastaNetnsPathDaemon: --netns with a full path, and
// --no-netns-quit keeps the daemon after the namespace is gone.
func TestIntegrationPastaNoNetnsQuit(t *testing.T) {
	requireRoot(t)
	ns := addNetns(t, "gpnoquit")
	pidFile := filepath.Join(t.TempDir(), "pasta.pid")
	_, errOut, st := runPasta(t, nil, nil, "--netns", "/run/netns/"+ns, "--no-netns-quit", "-I", "gptap", "-P", pidFile)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	pid := readPidFile(t, pidFile)
	if !tapUp(t, []string{"ip", "-n", ns}, "gptap") {
		t.Fatal("tap not up when pasta returned")
	}
	mustRun(t, "ip", "netns", "del", ns)
	time.Sleep(1500 * time.Millisecond)
	if exited(pid) {
		t.Fatal("daemon exited despite --no-netns-quit")
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if !waitExited(pid, 2*time.Second) {
		t.Fatal("daemon ignores SIGTERM")
	}
}

// TestIntegrationPastaPIDDaemon: pasta PID attaches to a process's
// namespace and exits once that process is gone.
func TestIntegrationPastaPIDDaemon(t *testing.T) {
	requireRoot(t)
	sleeper := exec.Command("unshare", "-n", "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	time.Sleep(100 * time.Millisecond) // let unshare exec sleep
	target := strconv.Itoa(sleeper.Process.Pid)
	pidFile := filepath.Join(t.TempDir(), "pasta.pid")
	_, errOut, st := runPasta(t, nil, nil, "-I", "gptap", "-P", pidFile, target)
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	pid := readPidFile(t, pidFile)
	if !tapUp(t, []string{"nsenter", "-t", target, "-n", "ip"}, "gptap") {
		t.Fatal("tap not up when pasta returned")
	}
	sleeper.Process.Kill()
	sleeper.Wait()
	if !waitExited(pid, 2*time.Second) {
		t.Fatalf("daemon %d still running 2 s after its target exited", pid)
	}
}

// TestIntegrationPastaNetnsMissing: a namespace that does not exist is an
// error reported by the launcher, status 1.
func TestIntegrationPastaNetnsMissing(t *testing.T) {
	requireRoot(t)
	_, errOut, st := runPasta(t, nil, nil, "--netns", "gp-no-such-ns")
	if st != 1 || len(errOut) == 0 {
		t.Errorf("status %d, stderr %q; want 1 and a message", st, errOut)
	}
}
