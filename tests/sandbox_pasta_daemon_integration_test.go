// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Proof from outside that pasta's engine process (the one that runs the
// event loop) is sandboxed once it serves: on every thread no capability,
// an empty bounding set, no_new_privs and a seccomp filter; an empty root
// directory; its own mount, IPC and UTS namespaces (but the host's network
// namespace); the user --runas asks for; and only the descriptors it needs.

// sandboxWait bounds the wait for the engine to enter the sandbox.
const sandboxWait = 10 * time.Second

// statusField returns the value of key in /proc/PID/status, "" if the
// process or the key is missing.
func statusField(pid int, key string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// waitSeccomp waits until pid's main thread runs under a seccomp filter,
// that is, until sandbox.Enter has finished.
func waitSeccomp(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(sandboxWait)
	for time.Now().Before(deadline) {
		if statusField(pid, "Seccomp") == "2" {
			return
		}
		if exited(pid) {
			t.Fatalf("pasta engine %d exited before entering the sandbox", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pasta engine %d not under seccomp after %v (Seccomp: %q)", pid, sandboxWait, statusField(pid, "Seccomp"))
}

// childOf returns the first process whose parent is ppid, polling up to
// sandboxWait.
func childOf(t *testing.T, ppid int) int {
	t.Helper()
	deadline := time.Now().Add(sandboxWait)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err == nil && statusField(pid, "PPid") == strconv.Itoa(ppid) {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no child of %d after %v", ppid, sandboxWait)
	return 0
}

// checkNamespaces asserts that pid has mount, IPC and UTS namespaces of its
// own and shares our network namespace (pasta's sockets are the host's).
func checkNamespaces(t *testing.T, pid int) {
	t.Helper()
	for _, ns := range []string{"mnt", "ipc", "uts", "net"} {
		theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		ours, err2 := os.Readlink("/proc/self/ns/" + ns)
		if err1 != nil || err2 != nil {
			t.Errorf("%s namespace: %v, %v", ns, err1, err2)
			continue
		}
		if same := theirs == ours; same != (ns == "net") {
			t.Errorf("pid %d %s namespace %s, ours %s: shared = %v, want %v", pid, ns, theirs, ours, same, ns == "net")
		}
	}
}

// checkIDs asserts the real, effective, saved and file system uid and gid
// of pid, and for a process that switched IDs (--runas), no supplementary
// groups.
func checkIDs(t *testing.T, pid int, uid, gid uint32, switched bool) {
	t.Helper()
	for key, id := range map[string]uint32{"Uid": uid, "Gid": gid} {
		want := strings.Repeat(strconv.Itoa(int(id))+" ", 4)
		if got := strings.Join(strings.Fields(statusField(pid, key)), " ") + " "; got != want {
			t.Errorf("pid %d %s: %q, want %q", pid, key, got, want)
		}
	}
	if g := statusField(pid, "Groups"); switched && g != "" {
		t.Errorf("pid %d supplementary groups %q, want none", pid, g)
	}
}

// checkPastaEngine runs every outside check on a serving engine process:
// sandbox state on all threads, namespaces, IDs, descriptors by kind.
func checkPastaEngine(t *testing.T, pid int, uid, gid uint32, fds map[string]int) {
	t.Helper()
	waitSeccomp(t, pid)
	n := checkSandboxed(t, pid, 0)
	t.Logf("pid %d: %d threads sandboxed", pid, n)
	checkNamespaces(t, pid)
	checkIDs(t, pid, uid, gid, uid != 0 && os.Geteuid() == 0)
	checkFDs(t, pid, fds)
}

// startPasta starts pasta with args (as cred, if not nil) and kills it on
// cleanup. Its output is kept for failure messages.
func startPasta(t *testing.T, cred *syscall.Credential, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, pastaBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"}
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		cancel()
		if t.Failed() {
			t.Logf("pasta output:\n%s", out.String())
		}
	})
	return cmd, &out
}

// spawnFDs are what an engine serving a spawned command holds besides
// stdio and the Go runtime's files: the tap, the engine's epoll and wake-up
// eventfd, the pidfd of the command it waits for, the six socket tables
// of the default auto forwarding towards the host (tcp and tcp6 of the
// namespace for -t auto; udp, udp6, tcp and tcp6 for -u auto), and the
// pipe on which its foreground launcher relays signals. The tests turn -T
// and -U auto off (noHostAuto): these engines serve the machine's own
// namespace, whose listening ports, followed into the namespace, would
// add sockets at each scan.
var spawnFDs = map[string]int{"file": 1, "eventpoll": 1, "eventfd": 1, "pidfd": 1, "procnet": 6, "pipe": 1}

// noHostAuto turns off the automatic forwarding of the host's ports.
var noHostAuto = []string{"-T", "none", "-U", "none"}

// TestIntegrationSandboxPastaSpawn: root runs pasta --config-net -- sleep
// 30. The engine is the launcher's child and the command's parent; it
// stays uid 0 (it must signal the command, root of a user namespace uid 0
// owns) with no capability at all.
func TestIntegrationSandboxPastaSpawn(t *testing.T) {
	requireRoot(t)
	cmd, _ := startPasta(t, nil, append(noHostAuto, "--config-net", "--", "sleep", "30")...)
	engine := childOf(t, cmd.Process.Pid)
	checkPastaEngine(t, engine, 0, 0, spawnFDs)
	if sleeper := findChild(engine, []string{"sleep", "30"}, sandboxWait); sleeper == 0 {
		t.Error("command not found under the engine")
	} else if pp := statusField(sleeper, "PPid"); pp != strconv.Itoa(engine) {
		t.Errorf("command's parent %s, want the engine %d", pp, engine)
	}
}

// TestIntegrationSandboxPastaNetnsDaemon: daemonized pasta --netns T (and
// pasta PID) as root, by default as nobody, with --runas as the user and
// group given. The daemon holds the tap, the epoll set and what tells it
// the namespace is gone (inotify on /run/netns, or the target's pidfd).
func TestIntegrationSandboxPastaNetnsDaemon(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name     string
		runas    []string
		pidTgt   bool
		lowPort  bool
		uid, gid uint32
		fds      map[string]int
	}{
		{name: "netns default nobody", uid: 65534, gid: 65534,
			fds: map[string]int{"file": 1, "eventpoll": 1, "eventfd": 1, "inotify": 1, "procnet": 6}},
		{name: "netns runas numeric", runas: []string{"--runas", "4242:4343"}, uid: 4242, gid: 4343,
			fds: map[string]int{"file": 1, "eventpoll": 1, "eventfd": 1, "inotify": 1, "procnet": 6}},
		{name: "PID", pidTgt: true, uid: 65534, gid: 65534,
			fds: map[string]int{"file": 1, "eventpoll": 1, "eventfd": 1, "pidfd": 1, "procnet": 6}},
		// A -t listener on a port below 1024, bound as root before
		// Enter: the nobody daemon keeps it open. -t is explicit, so only
		// -T is auto: the host's two tables (-u and -U are off: -U auto
		// would follow whatever TCP ports this host listens on).
		{name: "netns -t low port", lowPort: true, uid: 65534, gid: 65534,
			fds: map[string]int{"file": 1, "eventpoll": 1, "eventfd": 1, "inotify": 1, "socket": 1, "procnet": 2}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var target string
			if tt.pidTgt {
				sleeper := exec.Command("unshare", "-n", "sleep", "60")
				if err := sleeper.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
				time.Sleep(100 * time.Millisecond) // let unshare exec sleep
				target = strconv.Itoa(sleeper.Process.Pid)
			} else {
				target = addNetns(t, fmt.Sprintf("gpsbx%d", i))
			}
			pidFile := filepath.Join(t.TempDir(), "pasta.pid")
			args := append([]string{"-I", "gptap", "-P", pidFile}, tt.runas...)
			if !tt.lowPort {
				args = append(args, noHostAuto...)
			}
			if tt.lowPort {
				port := freeLowPort(t)
				args = append(args, "-t", strconv.Itoa(port), "-u", "none", "-U", "none")
			}
			if tt.pidTgt {
				args = append(args, target)
			} else {
				args = append(args, "--netns", target)
			}
			_, errOut, st := runPasta(t, nil, nil, args...)
			if st != 0 {
				t.Fatalf("status %d: %s", st, errOut)
			}
			pid := readPidFile(t, pidFile)
			checkPastaEngine(t, pid, tt.uid, tt.gid, tt.fds)
			// Confined, it still serves: SIGTERM ends it cleanly (no
			// SIGSYS on the way out).
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if !waitExited(pid, 2*time.Second) {
				t.Fatalf("daemon %d ignores SIGTERM", pid)
			}
		})
	}
}

// freeLowPort returns a TCP port below 1024 nobody listens on.
func freeLowPort(t *testing.T) int {
	t.Helper()
	for port := 990; port > 900; port-- {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Skip("no free TCP port in 901..990")
	return 0
}

// TestIntegrationSandboxPastaRunasSpawnRefused: --runas cannot be honoured
// with a spawned command (the engine must keep the right to signal it):
// an error, status 1, before any namespace work.
func TestIntegrationSandboxPastaRunasSpawnRefused(t *testing.T) {
	requireRoot(t)
	_, errOut, st := runPasta(t, nil, nil, "--runas", "nobody", "--", "true")
	if st != 1 || !strings.Contains(string(errOut), "--runas") {
		t.Errorf("status %d, stderr %q; want 1 and a message naming --runas", st, errOut)
	}
}

// TestIntegrationSandboxPastaRootless: the same checks for an unprivileged
// user: the engine in its own user namespace (spawn), and in the user's
// namespace joined through nsenter and unshare(1) (pasta PID). CapBnd is
// empty there too: the engine was root of that namespace until Enter.
func TestIntegrationSandboxPastaRootless(t *testing.T) {
	cred := rootlessUser(t)

	t.Run("spawn", func(t *testing.T) {
		cmd, _ := startPasta(t, cred, append(noHostAuto, "--config-net", "--", "sleep", "30")...)
		engine := childOf(t, cmd.Process.Pid)
		// uid 0 of its own user namespace, which /proc shows as the
		// user's uid from ours.
		checkPastaEngine(t, engine, cred.Uid, cred.Gid, spawnFDs)
	})

	t.Run("join PID", func(t *testing.T) {
		sleeper := exec.Command("unshare", "-rn", "sleep", "60")
		sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
		time.Sleep(100 * time.Millisecond) // let unshare exec sleep
		dir, err := os.MkdirTemp("", "gpasta-sbx-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		os.Chmod(dir, 0o777)
		pidFile := filepath.Join(dir, "pasta.pid")
		_, errOut, st := runPasta(t, cred, nil, append(noHostAuto, "-I", "gptap", "-P", pidFile, strconv.Itoa(sleeper.Process.Pid))...)
		if st != 0 {
			t.Fatalf("status %d: %s", st, errOut)
		}
		pid := readPidFile(t, pidFile)
		checkPastaEngine(t, pid, cred.Uid, cred.Gid, map[string]int{"file": 1, "eventpoll": 1, "eventfd": 1, "pidfd": 1, "procnet": 6})
		// The daemon is in the user's namespace (joined, not a new one).
		theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", sleeper.Process.Pid))
		if theirs != want {
			t.Errorf("daemon user namespace %s, want the target's %s", theirs, want)
		}
	})
}
