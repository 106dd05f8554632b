// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rootlessUser creates an unprivileged user and makes /dev/net/tun usable
// by it (mode 0666), undoing both on cleanup. It skips the test if that
// user cannot create user namespaces.
func rootlessUser(t *testing.T) *syscall.Credential {
	t.Helper()
	requireRoot(t)
	const name = "gpasta-rl"
	exec.Command("userdel", name).Run()
	if out, err := exec.Command("useradd", "-M", "-d", "/", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}

	st, err := os.Stat("/dev/net/tun")
	if err != nil {
		t.Skipf("no /dev/net/tun: %v", err)
	}
	mode := st.Mode().Perm()
	if err := os.Chmod("/dev/net/tun", 0o666); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod("/dev/net/tun", mode) })

	probe := exec.Command("unshare", "-rn", "true")
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("unprivileged user namespaces unavailable: %v: %s", err, out)
	}
	return cred
}

// TestIntegrationPastaRootless covers pasta run by an unprivileged user:
// spawning a command, and attaching by PID and by --userns/--netns to a
// namespace the user made with "unshare -rn".
func TestIntegrationPastaRootless(t *testing.T) {
	cred := rootlessUser(t)

	t.Run("spawn config-net", func(t *testing.T) {
		dev, addr, plen, gw := hostOutbound(t)
		ifname := dev
		if dev == "" {
			ifname, addr, plen, gw = "tap0", "169.254.2.1", 16, "169.254.2.2"
		}
		out, errOut, st := runPasta(t, cred, nil, "--config-net", "--", "sh", "-c",
			inNsScript+`; id -u; cat /proc/self/uid_map`)
		if st != 0 {
			t.Fatalf("status %d: %s", st, errOut)
		}
		var links []ipAddr
		var r4, r6 []ipRoute
		splitJSON(t, out, &links, &r4, &r6)
		tap, ok := findLink(links, ifname)
		if !ok || !tap.up() || !tap.has(addr, plen) {
			t.Errorf("tap %s: %+v (found %v), want %s/%d and UP", ifname, tap, ok, addr, plen)
		}
		found := false
		for _, r := range r4 {
			found = found || r.Dst == "default" && r.Gateway == gw
		}
		if !found {
			t.Errorf("no default route via %s: %+v", gw, r4)
		}
		// uid 0 inside, mapped to the user's uid: the last two lines are
		// "0" and the uid_map "0 UID 1".
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := "0|0 " + strconv.Itoa(int(cred.Uid)) + " 1"
		if got := lines[len(lines)-2] + "|" + strings.Join(strings.Fields(lines[len(lines)-1]), " "); got != want {
			t.Errorf("id -u and uid_map: %q, want %q", got, want)
		}
	})

	// --runas: the user's own IDs are no switch; another user is refused
	// at start, as passt's failing setuid(), not ignored.
	t.Run("runas", func(t *testing.T) {
		self := fmt.Sprintf("%d:%d", cred.Uid, cred.Gid)
		if _, errOut, st := runPasta(t, cred, nil, "--runas", self, "--", "true"); st != 0 {
			t.Errorf("--runas %s (itself): status %d: %s", self, st, errOut)
		}
		_, errOut, st := runPasta(t, cred, nil, "--runas", "4242", "--", "true")
		if st != 1 || !strings.Contains(string(errOut), "--runas 4242") {
			t.Errorf("--runas 4242: status %d, %q; want 1 and a message naming it", st, errOut)
		}
	})

	t.Run("spawn exit status", func(t *testing.T) {
		_, errOut, st := runPasta(t, cred, nil, "--", "sh", "-c", "exit 7")
		if st != 7 {
			t.Errorf("status %d, want 7: %s", st, errOut)
		}
	})

	for _, tc := range []struct {
		name string
		args func(pid string) []string
	}{
		{name: "PID", args: func(pid string) []string { return []string{pid} }},
		{name: "userns and netns", args: func(pid string) []string {
			return []string{"--userns", "/proc/" + pid + "/ns/user", "--netns", "/proc/" + pid + "/ns/net"}
		}},
	} {
		t.Run("join "+tc.name, func(t *testing.T) {
			sleeper := exec.Command("unshare", "-rn", "sleep", "60")
			sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			if err := sleeper.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
			time.Sleep(100 * time.Millisecond) // let unshare exec sleep
			target := strconv.Itoa(sleeper.Process.Pid)
			// t.TempDir's parent is private to root: the user could not
			// write the PID file there.
			dir, err := os.MkdirTemp("", "gpasta-rl-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			os.Chmod(dir, 0o777)
			pidFile := filepath.Join(dir, "pasta.pid")
			args := append([]string{"-I", "gptap", "-P", pidFile}, tc.args(target)...)
			_, errOut, st := runPasta(t, cred, nil, args...)
			if st != 0 {
				t.Fatalf("status %d: %s", st, errOut)
			}
			pid := readPidFile(t, pidFile)
			if !tapUp(t, []string{"nsenter", "-t", target, "-n", "ip"}, "gptap") {
				t.Fatal("tap not up in the user's namespace when pasta returned")
			}
			// The daemon runs as the user, in the user's namespace.
			if st, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil || st.Sys().(*syscall.Stat_t).Uid != cred.Uid {
				t.Errorf("daemon not owned by uid %d: %v", cred.Uid, err)
			}
			l1, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/user")
			l2, _ := os.Readlink("/proc/" + target + "/ns/user")
			if l1 == "" || l1 != l2 {
				t.Errorf("daemon user namespace %s, target's %s", l1, l2)
			}
			sleeper.Process.Kill()
			sleeper.Wait()
			if !waitExited(pid, 2*time.Second) {
				t.Errorf("daemon %d still running 2 s after the target exited", pid)
			}
		})
	}

	// Joining a user namespace runs util-linux nsenter and unshare: without
	// them in PATH pasta names them and stops before touching anything.
	t.Run("join without util-linux", func(t *testing.T) {
		sleeper := exec.Command("unshare", "-rn", "sleep", "60")
		sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
		time.Sleep(100 * time.Millisecond)
		target := strconv.Itoa(sleeper.Process.Pid)
		cmd := exec.Command(pastaBin, "-I", "gptap", target)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = []string{"PATH=/nonexistent", "HOME=/"}
		cmd.Dir = "/"
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit: %v, want status 1\n%s", err, out)
		}
		if !strings.Contains(string(out), "nsenter and unshare not found in PATH: needs nsenter and unshare from util-linux") {
			t.Errorf("message does not name the tools: %s", out)
		}
		if tapUp(t, []string{"nsenter", "-t", target, "-n", "ip"}, "gptap") {
			t.Error("a tap device was created although pasta refused to start")
		}
	})
}
