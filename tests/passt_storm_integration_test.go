// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// stormGuests is the number of connect/close cycles of
// TestIntegrationPasstConnectStorm; RSS is compared between the middle and
// the end.
const stormGuests = 1000

// TestIntegrationPasstConnectStorm: 1,000 guests connect and leave at
// once, as fast as blocking connect and close allow. Every one is served
// (a fresh engine each: "guest connected", then "guest disconnected"), a
// guest afterwards gets its ARP answered, and the one long-lived process
// does not grow: its RSS between guests after the last 500 is within
// 100 kB of what it was after the first 500, and it holds as many
// descriptors as before the storm.
func TestIntegrationPasstConnectStorm(t *testing.T) {
	sock := ptSock(t)
	pidFile := filepath.Join(filepath.Dir(sock), "passt.pid")
	p := startPasst(t, sock, nil, append([]string{"-f", "-s", sock, "-P", pidFile}, ptArgs()...)...)
	deadline := time.Now().Add(10 * time.Second)
	for readPidFileOK(pidFile) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	pid := readPidFile(t, pidFile)
	fds0 := len(procFDs(t, pid))

	// idle waits until the server has finished with n guests.
	idle := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(p.logText(), "waiting for the next guest") < n {
			if time.Now().After(deadline) || p.exited() {
				t.Fatalf("%d of %d guests served", strings.Count(p.logText(), "waiting for the next guest"), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	start := time.Now()
	var rssMid, anonMid int
	for i := 1; i <= stormGuests; i++ {
		// A blocking connect, as qemu's: it waits while the listen
		// queue (one) is full, where a non-blocking one gets EAGAIN.
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
			unix.Close(fd)
			t.Fatalf("guest %d: connect: %v", i, err)
		}
		unix.Close(fd)
		if i == stormGuests/2 {
			idle(i)
			rssMid, anonMid = memKB(t, pid, "VmRSS"), memKB(t, pid, "RssAnon")
		}
	}
	idle(stormGuests)
	rssEnd, anonEnd := memKB(t, pid, "VmRSS"), memKB(t, pid, "RssAnon")
	log := p.logText()
	t.Logf("%d guests in %v; after %d and %d guests: RssAnon %d and %d kB, VmRSS %d and %d kB; %d fds before, %d after",
		stormGuests, time.Since(start).Round(time.Millisecond), stormGuests/2, stormGuests,
		anonMid, anonEnd, rssMid, rssEnd, fds0, len(procFDs(t, pid)))
	if n := strings.Count(log, "guest connected"); n != stormGuests {
		t.Errorf("%d guests connected, want %d", n, stormGuests)
	}
	if n := strings.Count(log, "guest disconnected"); n != stormGuests {
		t.Errorf("%d guests disconnected, want %d", n, stormGuests)
	}
	if d := anonEnd - anonMid; d > 100 || d < -100 {
		t.Errorf("RssAnon went from %d kB to %d kB over the last %d guests (want within 100 kB)", anonMid, anonEnd, stormGuests/2)
	}
	if n := len(procFDs(t, pid)); n != fds0 {
		t.Errorf("%d descriptors after the storm, %d before", n, fds0)
	}
	q := dialQemu(t, sock)
	q.send(t, arpRequest())
	q.expect(t, 5*time.Second, "ARP reply", isARPReply)
}

// memKB returns a memory line of /proc/PID/status (VmRSS, RssAnon) in kB.
func memKB(t *testing.T, pid int, key string) int {
	t.Helper()
	st := procStatus(t, fmt.Sprintf("/proc/%d/status", pid))
	f := strings.Fields(st[key])
	if len(f) == 0 {
		t.Fatalf("pid %d: no %s", pid, key)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readPidFileOK returns the PID in path, or 0 if it is not written yet.
func readPidFileOK(path string) int {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(string(b), "\n") {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
