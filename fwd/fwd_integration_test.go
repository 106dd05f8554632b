// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package fwd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/netns"
)

// testNetns creates a network namespace with lo up and a worker in it.
func testNetns(t *testing.T) (string, *netns.Worker) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	name := fmt.Sprintf("gpfwd%d_%s", os.Getpid()%100000, t.Name())
	if len(name) > 30 {
		name = name[:30]
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	w, err := netns.NewWorker("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return name, w
}

// bindInNs binds a socket of type typ on port inside the namespace
// (listening if TCP) and returns it.
func bindInNs(t *testing.T, w *netns.Worker, typ int, port int) int {
	t.Helper()
	fd, err := w.Socket(unix.AF_INET6, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet6{Port: port}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if typ == unix.SOCK_STREAM {
		if err := unix.Listen(fd, 1); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}

// waitChange scans every 100 ms for up to 1.5 s until port shows up in
// added (or removed, if gone).
func waitChange(t *testing.T, s *Scanner, port uint16, gone bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		added, removed, err := s.Scan(time.Now().UnixNano())
		if err != nil {
			t.Fatal(err)
		}
		if list := map[bool][]uint16{false: added, true: removed}[gone]; slices.Contains(list, port) {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("port %d not reported (gone=%v) within 1.5 s", port, gone)
	return 0
}

func TestIntegrationScanWorkerThread(t *testing.T) {
	tests := []struct {
		name  string
		proto string
		typ   int
		port  int
	}{
		{"tcp", "tcp", unix.SOCK_STREAM, 18080},
		{"udp", "udp", unix.SOCK_DGRAM, 18081},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, w := testNetns(t)
			open := func(name string) (fd int, err error) {
				err = w.Do(func() error {
					fd, err = unix.Open("/proc/thread-self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
					return err
				})
				return fd, err
			}
			s := NewScannerOpen(open, tc.proto, nil, nil)
			defer s.Close()
			added, _, err := s.Scan(time.Now().UnixNano())
			if err != nil || len(added) != 0 {
				t.Fatalf("fresh namespace: added %v, %v", added, err)
			}
			fd := bindInNs(t, w, tc.typ, tc.port)
			t.Logf("bound seen after %v", waitChange(t, s, uint16(tc.port), false))
			// The host's own tables must not show it: the scanner read
			// the namespace's.
			host := NewScanner("/proc/self/net", tc.proto, nil, nil)
			defer host.Close()
			if a, _, _ := host.Scan(0); slices.Contains(a, uint16(tc.port)) {
				t.Skipf("port %d also bound on the host", tc.port)
			}
			unix.Close(fd)
			t.Logf("unbound seen after %v", waitChange(t, s, uint16(tc.port), true))
		})
	}
}

func TestIntegrationScanProcPid(t *testing.T) {
	name, _ := testNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A process in the namespace that listens on a port once started.
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", name, "python3", "-c",
		`import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
time.sleep(0.3); s.bind(("127.0.0.1", 18090)); s.listen(1); time.sleep(30)`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// An open table belongs to the namespace of the process at open
	// time: wait until ip has joined the namespace.
	pid := strconv.Itoa(cmd.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	for i := 0; ; i++ {
		if ns, err := os.Readlink("/proc/" + pid + "/ns/net"); err == nil && ns != self {
			break
		}
		if i == 200 {
			t.Fatal("process never joined the namespace")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s := NewScanner("/proc/"+pid+"/net", "tcp", nil, nil)
	defer s.Close()
	t.Logf("seen after %v", waitChange(t, s, 18090, false))
}
