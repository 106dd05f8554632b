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
	var rssMid int
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
			rssMid = rssKB(t, pid)
		}
	}
	idle(stormGuests)
	rssEnd := rssKB(t, pid)
	log := p.logText()
	t.Logf("%d guests in %v; RSS %d kB after %d, %d kB after %d; %d fds before, %d after",
		stormGuests, time.Since(start).Round(time.Millisecond), rssMid, stormGuests/2, rssEnd, stormGuests, fds0, len(procFDs(t, pid)))
	if n := strings.Count(log, "guest connected"); n != stormGuests {
		t.Errorf("%d guests connected, want %d", n, stormGuests)
	}
	if n := strings.Count(log, "guest disconnected"); n != stormGuests {
		t.Errorf("%d guests disconnected, want %d", n, stormGuests)
	}
	if d := rssEnd - rssMid; d > 100 || d < -100 {
		t.Errorf("RSS went from %d kB to %d kB over the last %d guests (want within 100 kB)", rssMid, rssEnd, stormGuests/2)
	}
	if n := len(procFDs(t, pid)); n != fds0 {
		t.Errorf("%d descriptors after the storm, %d before", n, fds0)
	}
	q := dialQemu(t, sock)
	q.send(t, arpRequest())
	q.expect(t, 5*time.Second, "ARP reply", isARPReply)
}

// rssKB returns VmRSS of pid in kB.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	st := procStatus(t, fmt.Sprintf("/proc/%d/status", pid))
	f := strings.Fields(st["VmRSS"])
	if len(f) == 0 {
		t.Fatalf("pid %d: no VmRSS", pid)
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
