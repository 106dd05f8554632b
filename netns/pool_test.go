// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sockNs returns the inode of the network namespace socket fd belongs to.
func sockNs(t *testing.T, fd int) uint64 {
	t.Helper()
	nsFd, err := unix.IoctlRetInt(fd, unix.SIOCGSKNS)
	if err != nil {
		t.Fatalf("SIOCGSKNS: %v", err)
	}
	defer unix.Close(nsFd)
	var st unix.Stat_t
	if err := unix.Fstat(nsFd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestPool: the pool's sockets are made inside the worker's namespace,
// PoolBatch per kind at a time; kinds beyond maxPoolKinds are made one
// by one; Close closes the stock.
func TestPool(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a network namespace of its own")
	}
	holder := exec.Command("unshare", "--net", "--", "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Skip("unshare:", err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	nsPath := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	var want uint64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var st, self unix.Stat_t
		if unix.Stat(nsPath, &st) == nil && unix.Stat("/proc/self/ns/net", &self) == nil && st.Ino != self.Ino {
			want = st.Ino
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the namespace holder did not start")
		}
	}
	w, err := NewWorker(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPool(w)
	stream := unix.SOCK_STREAM | unix.SOCK_NONBLOCK
	var got []int
	t.Cleanup(func() {
		for _, fd := range got {
			unix.Close(fd)
		}
	})
	for _, tc := range []struct {
		name               string
		domain, typ, proto int
		calls, stock       int // calls made, stock after them
	}{
		{"first takes one of a batch", unix.AF_INET, stream, 0, 1, PoolBatch - 1},
		{"the batch lasts", unix.AF_INET, stream, 0, PoolBatch - 1, 0},
		{"then a new one", unix.AF_INET, stream, 0, 1, PoolBatch - 1},
		{"another kind, its own stock", unix.AF_INET6, stream, 0, 2, 2*PoolBatch - 3},
		{"third kind", unix.AF_INET, unix.SOCK_DGRAM, 0, 1, 3*PoolBatch - 4},
		{"fourth kind", unix.AF_INET6, unix.SOCK_DGRAM, 0, 1, 4*PoolBatch - 5},
		{"fifth kind: one at a time", unix.AF_INET, unix.SOCK_STREAM, 0, 3, 4*PoolBatch - 5},
	} {
		for range tc.calls {
			fd, err := p.Socket(tc.domain, tc.typ, tc.proto)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got = append(got, fd)
			if ns := sockNs(t, fd); ns != want {
				t.Fatalf("%s: socket in namespace %d, want %d", tc.name, ns, want)
			}
			typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
			if err != nil || typ != tc.typ&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) {
				t.Fatalf("%s: SO_TYPE %d (%v), want %d", tc.name, typ, err, tc.typ)
			}
			if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
				t.Fatalf("%s: not close-on-exec", tc.name)
			}
		}
		if n := p.Stock(); n != tc.stock {
			t.Fatalf("%s: stock %d, want %d", tc.name, n, tc.stock)
		}
	}
	stocked := append([]int(nil), p.kinds[0].fds...)
	p.Close()
	if n := p.Stock(); n != 0 {
		t.Errorf("stock %d after Close", n)
	}
	for _, fd := range stocked {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			t.Errorf("fd %d still open after Close (%v)", fd, err)
		}
	}
}
