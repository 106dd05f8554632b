// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run cmd/sandboxprobe, which applies the daemons' sandbox
// (sandbox.Reexec, then sandbox.Enter) under SECCOMP_RET_KILL_PROCESS and
// tries one thing.

var (
	probeOnce sync.Once
	probeBin  string
	probeErr  error
)

// sandboxProbe builds cmd/sandboxprobe once, with CGO_ENABLED=0 like the
// daemons.
func sandboxProbe(t *testing.T) string {
	t.Helper()
	probeOnce.Do(func() {
		out := filepath.Join(binDir, "sandboxprobe")
		// seccompdebug: TestIntegrationSandboxLayers needs the log action.
		cmd := exec.Command("go", "build", "-tags", "seccompdebug", "-o", out, "gopasst/cmd/sandboxprobe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			probeErr = fmt.Errorf("build sandboxprobe: %v\n%s", err, b)
			return
		}
		probeBin = out
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probeBin
}

type probeResult struct {
	out    string // stdout and stderr
	signal int    // signal that killed the sandboxed stage, 0 if it exited
	status int    // exit status of the sandboxed stage if it exited
	result string // the "result: TEST ..." line, without the prefix
}

var (
	reKilled = regexp.MustCompile(`(?m)^stage2 killed signal=(\d+)`)
	reExited = regexp.MustCompile(`(?m)^stage2 exited status=(\d+)`)
	reResult = regexp.MustCompile(`(?m)^result: (.*)$`)
)

// runProbe runs the probe to completion with a time limit.
func runProbe(t *testing.T, cred *syscall.Credential, args ...string) probeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sandboxProbe(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	_ = cmd.Run() // the exit status is checked through the printed lines
	r := probeResult{out: buf.String(), signal: -1, status: -1}
	if m := reKilled.FindStringSubmatch(r.out); m != nil {
		r.signal, _ = strconv.Atoi(m[1])
	} else if m := reExited.FindStringSubmatch(r.out); m != nil {
		r.signal = 0
		r.status, _ = strconv.Atoi(m[1])
	} else {
		t.Fatalf("sandboxprobe %v: no stage2 outcome:\n%s", args, r.out)
	}
	if m := reResult.FindStringSubmatch(r.out); m != nil {
		r.result = m[1]
	}
	if r.signal != 0 && !strings.Contains(r.out, "sandboxed mode=") {
		t.Fatalf("sandboxprobe %v died before the sandbox was complete:\n%s", args, r.out)
	}
	return r
}

var probeSetups = []struct {
	name string
	args []string
}{
	{"passt", []string{"-mode", "passt", "-userns=true"}},
	{"pasta", []string{"-mode", "pasta", "-userns=false"}},
	{"pasta-userns", []string{"-mode", "pasta", "-userns=true"}},
	// The foreground launchers of passt and pasta (sandbox.ConfineWaiter).
	{"launcher", []string{"-mode", "waiter", "-userns=false"}},
}

// TestIntegrationSandboxForbidden: each forbidden call kills the process
// with SIGSYS (31). openat is not in the profile, so "open" dies from the
// filter before the empty root could answer ENOENT (see the log test).
func TestIntegrationSandboxForbidden(t *testing.T) {
	requireRoot(t)
	for _, s := range probeSetups {
		for _, probe := range []string{"open", "execve", "ptrace", "mount", "packet"} {
			t.Run(s.name+"/"+probe, func(t *testing.T) {
				r := runProbe(t, nil, append(s.args, probe)...)
				if r.signal != int(syscall.SIGSYS) {
					t.Errorf("want death by SIGSYS, got signal %d status %d:\n%s", r.signal, r.status, r.out)
				}
				if r.result != "" {
					t.Errorf("the call returned (%s): the filter did not stop it", r.result)
				}
			})
		}
	}
}

// TestIntegrationSandboxAllowed: the data path and the Go runtime work
// under KILL_PROCESS.
func TestIntegrationSandboxAllowed(t *testing.T) {
	requireRoot(t)
	for _, s := range probeSetups {
		for _, probe := range []string{"udp", "tcp", "runtime"} {
			if s.name == "launcher" && probe != "runtime" {
				continue // no sockets: it only waits and signals
			}
			t.Run(s.name+"/"+probe, func(t *testing.T) {
				r := runProbe(t, nil, append(s.args, probe)...)
				if r.signal != 0 || r.status != 0 || r.result != probe+" ok" {
					t.Errorf("want success, got signal %d status %d:\n%s", r.signal, r.status, r.out)
				}
			})
		}
	}
}

// TestIntegrationSandboxLayers runs the forbidden calls with the unsafe
// log action, which lets them through the filter: the other layers must
// still refuse them. The empty root answers ENOENT, the missing
// capabilities EPERM.
func TestIntegrationSandboxLayers(t *testing.T) {
	requireRoot(t)
	tests := []struct{ probe, want string }{
		{"open", "open errno=ENOENT"},
		{"execve", "execve errno=ENOENT"},
		{"mount", "mount errno=EPERM"},
		{"packet", "packet errno=EPERM"},
	}
	for _, tt := range tests {
		t.Run(tt.probe, func(t *testing.T) {
			r := runProbe(t, nil, "-mode", "passt", "-action", "log", tt.probe)
			if r.signal != 0 || r.result != tt.want {
				t.Errorf("want %q, got signal %d result %q:\n%s", tt.want, r.signal, r.result, r.out)
			}
		})
	}
	// The launchers' second wall: Landlock alone refuses a file that
	// every user may read, and executing a program.
	for _, tt := range []struct{ probe, want string }{
		{"open", "open errno=EACCES"},
		{"execve", "execve errno=EACCES"},
	} {
		t.Run("landlock/"+tt.probe, func(t *testing.T) {
			if !landlockEnabled() {
				t.Skip("Landlock is not enabled in this kernel")
			}
			r := runProbe(t, nil, "-mode", "landlock", "-userns=false", tt.probe)
			if r.signal != 0 || r.result != tt.want {
				t.Errorf("want %q, got signal %d result %q:\n%s", tt.want, r.signal, r.result, r.out)
			}
		})
	}
}

// landlockEnabled reports whether Landlock is among the kernel's LSMs
// (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION answers).
func landlockEnabled() bool {
	const sysLandlockCreateRuleset = 444 // the same number on every architecture
	v, _, e := syscall.Syscall(sysLandlockCreateRuleset, 0, 0, 1)
	return e == 0 && v > 0
}

// TestIntegrationSandboxRootless runs the passt setup as an unprivileged
// user: the user namespace maps its own uid, and the sandbox is the same.
func TestIntegrationSandboxRootless(t *testing.T) {
	requireRoot(t)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}
	r := runProbe(t, nobody, "-mode", "passt", "udp")
	if r.signal != 0 || r.result != "udp ok" {
		t.Fatalf("rootless udp: signal %d result %q:\n%s", r.signal, r.result, r.out)
	}
	r = runProbe(t, nobody, "-mode", "passt", "execve")
	if r.signal != int(syscall.SIGSYS) {
		t.Fatalf("rootless execve: want SIGSYS, got signal %d:\n%s", r.signal, r.out)
	}
}

// TestIntegrationSandboxOutside inspects a sleeping sandboxed probe from
// outside: capabilities, no_new_privs and seccomp on every thread, an
// empty root, and only the fds it needs.
func TestIntegrationSandboxOutside(t *testing.T) {
	requireRoot(t)
	for _, s := range probeSetups {
		if s.name == "launcher" {
			continue // no empty root: TestIntegrationSandboxAudit checks the launchers
		}
		t.Run(s.name, func(t *testing.T) {
			cmd := exec.Command(sandboxProbe(t), append(s.args, "sleep")...)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid2 := 0
			t.Cleanup(func() {
				stdin.Close()
				if pid2 > 0 {
					syscall.Kill(pid2, syscall.SIGKILL)
				}
				cmd.Process.Kill()
				cmd.Wait()
			})
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			timeout := time.After(20 * time.Second)
		wait:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatal("probe ended before it was ready")
					}
					if v, ok := strings.CutPrefix(l, "stage2 pid="); ok {
						pid2, _ = strconv.Atoi(v)
					}
					if l == "ready" {
						break wait
					}
				case <-timeout:
					t.Fatal("probe not ready after 20s")
				}
			}
			if pid2 <= 0 {
				t.Fatal("no stage2 pid")
			}
			n := checkSandboxed(t, pid2, 0)
			if n < 5 {
				t.Errorf("only %d threads: the test does not cover a multi-threaded runtime", n)
			}
			// stdio, the inherited UDP socket and TCP listener, and the Go
			// runtime's netpoll (eventpoll, eventfd) and cgroup files.
			checkFDs(t, pid2, map[string]int{"socket": 2, "eventpoll": 1, "eventfd": 1})
			st := procStatus(t, fmt.Sprintf("/proc/%d/status", pid2))
			wantUID := "0"
			if strings.Contains(strings.Join(s.args, " "), "-userns=true") {
				wantUID = "65534"
			}
			if uid := strings.Fields(st["Uid"]); len(uid) == 0 || uid[0] != wantUID {
				t.Errorf("Uid = %q, want %s", st["Uid"], wantUID)
			}
			stdin.Close()
			for l := range lines {
				if strings.HasPrefix(l, "stage2 ") && l != "stage2 exited status=0" {
					t.Errorf("probe ended with %q", l)
				}
			}
			io.Copy(io.Discard, stdout)
		})
	}
}
