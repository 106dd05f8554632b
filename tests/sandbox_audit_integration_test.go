// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The audit of README's Security section, from outside, as a packager
// would do it: in each mode, every process whose /proc/PID/exe is one of
// gopasst's binaries, every thread of it, must have no_new_privs, a
// seccomp filter and no effective, permitted, inheritable or ambient
// capability; one that is root or in a user namespace of its own also an
// empty bounding set and an empty root directory.

// gopasstPIDs returns every process running pastaBin or passtBin (either
// may be a symbolic link to the other).
func gopasstPIDs(t *testing.T) []int {
	t.Helper()
	bins := map[string]bool{}
	for _, b := range []string{pastaBin, passtBin} {
		bins[b] = true
		if r, err := filepath.EvalSymlinks(b); err == nil {
			bins[r] = true
		}
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			continue
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		if bins[exe] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// auditProcess checks one process and returns a one-line summary.
func auditProcess(t *testing.T, pid int) string {
	t.Helper()
	ours, _ := os.Readlink("/proc/self/ns/user")
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		t.Errorf("pid %d: %v", pid, err)
		return ""
	}
	ownUserNS := theirs != ours
	st := procStatus(t, fmt.Sprintf("/proc/%d/status", pid))
	uids := strings.Fields(st["Uid"])
	root := len(uids) > 1 && (uids[0] == "0" || uids[1] == "0")
	strict := root || ownUserNS
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		t.Errorf("pid %d: threads: %v", pid, err)
		return ""
	}
	for _, task := range tasks {
		ts := procStatus(t, fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		want := map[string]string{
			"NoNewPrivs": "1", "Seccomp": "2",
			"CapEff": "0000000000000000", "CapPrm": "0000000000000000",
			"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
		}
		if strict {
			want["CapBnd"] = "0000000000000000"
		}
		for k, v := range want {
			if ts[k] != v {
				t.Errorf("pid %d (%s) thread %s: %s = %q, want %q", pid, st["Name"], task.Name(), k, ts[k], v)
			}
		}
	}
	rootDir := "host"
	if strict {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/root", pid))
		switch {
		case err != nil:
			t.Errorf("pid %d: root: %v", pid, err)
		case len(ents) != 0:
			t.Errorf("pid %d: root directory not empty: %d entries", pid, len(ents))
		default:
			rootDir = "empty"
		}
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return fmt.Sprintf("pid %d uid %s own-userns %v threads %d CapBnd %s NoNewPrivs %s Seccomp %s root %s: %s",
		pid, uids[0], ownUserNS, len(tasks), st["CapBnd"], st["NoNewPrivs"], st["Seccomp"], rootDir,
		strings.ReplaceAll(strings.TrimSpace(string(cmdline)), "\x00", " "))
}

// auditAll audits every gopasst process and expects want of them.
func auditAll(t *testing.T, want int) []int {
	t.Helper()
	pids := gopasstPIDs(t)
	for _, pid := range pids {
		t.Log(auditProcess(t, pid))
	}
	if len(pids) != want {
		t.Errorf("%d gopasst processes %v, want %d", len(pids), pids, want)
	}
	return pids
}

// startReady starts cmd with stdout on a pipe and waits for the line
// "ready" (printed by the spawned command once pasta released it). The
// command ends when its stdin is closed, on cleanup.
func startReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) != "ready" {
			t.Fatalf("got %q, want ready; stderr:\n%s", s, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("command not ready; stderr:\n%s", stderr.String())
	}
}

// spawnReady is the command pasta spawns in the audit: it says it runs
// and waits for its stdin to close.
const spawnReady = "echo ready; read x"

// killPidFile ends the daemon named in path on cleanup.
func killPidFile(t *testing.T, path string) int {
	t.Helper()
	pid := readPidFile(t, path)
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		if !waitExited(pid, 5*time.Second) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid
}

// auditDir is a sticky, world-writable directory (like /tmp) for sockets
// and PID files of passt running as another user.
func auditDir(t *testing.T) string {
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // testing's per-test parent is 0700
	os.Chmod(dir, 0o1777)
	return dir
}

// passtWithGuest starts passt (as cred, nil: root) with a -t and a -u
// forward, connects a guest speaking qemu's stream protocol and checks it
// is served (ARP). It returns the --pid PID and the time from start until
// the PID file was written.
func passtWithGuest(t *testing.T, cred *syscall.Credential, foreground bool) (int, time.Duration) {
	t.Helper()
	dir := auditDir(t)
	sock, pidFile := filepath.Join(dir, "passt.sock"), filepath.Join(dir, "passt.pid")
	args := append([]string{"-s", sock, "-P", pidFile, "-t", "127.0.0.1/34567", "-u", "34567"}, ptArgs()...)
	if foreground {
		args = append(args, "-f")
	}
	cmd := exec.Command(passtBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	var took time.Duration
	if !foreground {
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatalf("the launcher did not return; stderr:\n%s", stderr.String())
		}
		if waitErr != nil {
			t.Fatalf("passt: %v\n%s", waitErr, stderr.String())
		}
		took = time.Since(start)
	} else {
		deadline := time.Now().Add(10 * time.Second)
		for readPidFileOK(pidFile) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no PID file; stderr:\n%s", stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		took = time.Since(start)
	}
	pid := killPidFile(t, pidFile)
	q := dialQemu(t, sock)
	q.send(t, arpRequest())
	q.expect(t, 5*time.Second, "ARP reply", isARPReply)
	return pid, took
}

func TestIntegrationSandboxAudit(t *testing.T) {
	requireRoot(t)
	if pids := gopasstPIDs(t); len(pids) != 0 {
		t.Fatalf("gopasst processes already running: %v", pids)
	}
	t.Run("pasta spawn as root", func(t *testing.T) {
		startReady(t, exec.Command(pastaBin, "--config-net", "--", "sh", "-c", spawnReady))
		auditAll(t, 2) // the launcher (nobody now) and the engine
	})
	t.Run("pasta spawn rootless", func(t *testing.T) {
		cmd := exec.Command(pastaBin, "--config-net", "--", "sh", "-c", spawnReady)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: rootlessUser(t)}
		startReady(t, cmd)
		auditAll(t, 2)
	})
	t.Run("pasta --netns", func(t *testing.T) {
		ns := addNetns(t, "gpaudit")
		pidFile := filepath.Join(t.TempDir(), "pasta.pid")
		mustRun(t, pastaBin, "--config-net", "--netns", ns, "--pid", pidFile)
		killPidFile(t, pidFile)
		auditAll(t, 1)
	})
	t.Run("pasta PID", func(t *testing.T) {
		target := exec.Command("unshare", "--net", "sleep", "30")
		if err := target.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { target.Process.Kill(); target.Wait() })
		time.Sleep(100 * time.Millisecond) // unshare has executed sleep
		pidFile := filepath.Join(t.TempDir(), "pasta.pid")
		mustRun(t, pastaBin, "--config-net", "--pid", pidFile, strconv.Itoa(target.Process.Pid))
		killPidFile(t, pidFile)
		auditAll(t, 1)
	})
	for _, tt := range []struct {
		name       string
		rootless   bool
		foreground bool
		want       int
	}{
		{"passt as root", false, false, 1},
		{"passt as root -f", false, true, 2},
		{"passt as a user -f", true, true, 2},
		{"passt as a user", true, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cred *syscall.Credential
			if tt.rootless {
				cred = rootlessUser(t)
			}
			pid, took := passtWithGuest(t, cred, tt.foreground)
			t.Logf("--pid %d written %v after start", pid, took)
			found := false
			for _, p := range auditAll(t, tt.want) {
				found = found || p == pid
			}
			if !found {
				t.Errorf("the --pid process %d is not one of gopasst's", pid)
			}
			ours, _ := os.Readlink("/proc/self/ns/user")
			if theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid)); theirs == ours {
				t.Errorf("the --pid process %d is in the caller's user namespace", pid)
			}
			if st := procStatus(t, fmt.Sprintf("/proc/%d/status", pid)); strings.Fields(st["Uid"])[0] == "0" {
				t.Errorf("the --pid process %d runs as uid 0", pid)
			}
		})
	}
}
