// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Outside checks of a sandboxed process, for cmd/sandboxprobe and for the
// real passt and pasta daemons once they call sandbox.Enter. They read
// /proc as root of the initial namespaces: the sandboxed process is not
// dumpable, so its /proc/PID/fd and root need CAP_SYS_PTRACE over it.

// procStatus returns the "Key: value" lines of a /proc/.../status file.
func procStatus(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// checkSandboxed asserts that every thread of process pid has the
// effective and permitted capability sets wantCapEff, empty inheritable,
// ambient and bounding sets, no_new_privs and a seccomp filter (mode 2);
// that its root directory is empty; and that its mount namespace is not
// ours. It returns the thread count.
func checkSandboxed(t *testing.T, pid int, wantCapEff uint64) int {
	t.Helper()
	taskDir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(taskDir)
	if err != nil {
		t.Fatalf("list threads of %d: %v", pid, err)
	}
	if len(tasks) == 0 {
		t.Fatalf("process %d has no threads", pid)
	}
	hex := func(tid, key string, st map[string]string) uint64 {
		v, err := strconv.ParseUint(st[key], 16, 64)
		if err != nil {
			t.Errorf("thread %s: %s = %q: %v", tid, key, st[key], err)
		}
		return v
	}
	for _, task := range tasks {
		tid := task.Name()
		st := procStatus(t, filepath.Join(taskDir, tid, "status"))
		for key, want := range map[string]uint64{
			"CapEff": wantCapEff, "CapPrm": wantCapEff,
			"CapInh": 0, "CapAmb": 0, "CapBnd": 0,
		} {
			if got := hex(tid, key, st); got != want {
				t.Errorf("pid %d thread %s: %s = %016x, want %016x", pid, tid, key, got, want)
			}
		}
		if st["NoNewPrivs"] != "1" {
			t.Errorf("pid %d thread %s: NoNewPrivs = %q, want 1", pid, tid, st["NoNewPrivs"])
		}
		if st["Seccomp"] != "2" {
			t.Errorf("pid %d thread %s: Seccomp = %q, want 2 (filter)", pid, tid, st["Seccomp"])
		}
	}
	root := fmt.Sprintf("/proc/%d/root", pid)
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Errorf("list %s: %v", root, err)
	} else if len(ents) != 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("%s is not empty: %v", root, names)
	}
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	ours, err2 := os.Readlink("/proc/self/ns/mnt")
	if err1 != nil || err2 != nil {
		t.Errorf("mount namespaces: %v, %v", err1, err2)
	} else if theirs == ours {
		t.Errorf("pid %d shares our mount namespace %s", pid, ours)
	}
	return len(tasks)
}

// procFDs returns the open descriptors of pid and what they point to
// (readlink of /proc/PID/fd/N: "socket:[123]", "anon_inode:[eventpoll]", a
// path, ...).
func procFDs(t *testing.T, pid int) map[int]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	fds := map[int]string{}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		fds[fd] = target
	}
	return fds
}

// fdKind classifies a /proc/PID/fd target: "socket", "pipe", "eventpoll",
// "eventfd", "timerfd", "cgroup" (the Go runtime's GOMAXPROCS updater keeps
// the cgroup CPU limit files open), "procnet" (a socket table that pasta's
// auto-forwarding scanner keeps open: /proc/.../net/tcp, tcp6, udp, udp6),
// or "file" for anything else.
func fdKind(target string) string {
	switch {
	case strings.HasPrefix(target, "socket:"):
		return "socket"
	case strings.HasPrefix(target, "pipe:"):
		return "pipe"
	case strings.HasPrefix(target, "anon_inode:"):
		return strings.Trim(strings.TrimPrefix(target, "anon_inode:"), "[]")
	}
	// A proc entry opened twice (the TCP and UDP scanners both read
	// net/tcp) may show as "(deleted)" once its dentry is replaced.
	switch filepath.Base(strings.TrimSuffix(target, " (deleted)")) {
	case "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us":
		return "cgroup"
	case "tcp", "tcp6", "udp", "udp6":
		// After the pivot the link reads /PID/net/tcp: the old /proc
		// mount is detached, so its prefix is gone.
		if strings.Contains(target, "/net/") {
			return "procnet"
		}
	}
	return "file"
}

// checkFDs asserts that pid has, besides stdio (0, 1, 2), exactly the
// descriptor kinds in want (kind → count), where the Go runtime's own
// eventpoll, eventfd and cgroup fds are always accepted.
func checkFDs(t *testing.T, pid int, want map[string]int) {
	t.Helper()
	fds := procFDs(t, pid)
	got := map[string]int{}
	var desc []string
	for fd, target := range fds {
		desc = append(desc, fmt.Sprintf("%d→%s", fd, target))
		if fd <= 2 {
			continue
		}
		got[fdKind(target)]++
	}
	sort.Strings(desc)
	t.Logf("pid %d fds: %s", pid, strings.Join(desc, " "))
	for kind, n := range got {
		switch kind {
		case "eventpoll", "eventfd":
			if n > want[kind]+1 {
				t.Errorf("pid %d has %d %s fds, want at most %d", pid, n, kind, want[kind]+1)
			}
		case "cgroup":
			if n > 2 {
				t.Errorf("pid %d has %d cgroup fds, want at most 2", pid, n)
			}
		default:
			if n != want[kind] {
				t.Errorf("pid %d has %d %s fds, want %d", pid, n, kind, want[kind])
			}
		}
	}
	for kind, n := range want {
		if got[kind] < n {
			t.Errorf("pid %d has %d %s fds, want %d", pid, got[kind], kind, n)
		}
	}
}
