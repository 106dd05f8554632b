// SPDX-License-Identifier: GPL-2.0-or-later

// Package taptest builds what tap device tests need, as root: a named
// network namespace, a tap device inside it with its fd open in the test
// process, and a packet socket on that device to play the guest's kernel
// from user space.
//
// # Theory of operation
//
// The namespace is made with `ip netns add` and removed with `ip netns del`
// in t.Cleanup. Work that must happen inside it (opening /dev/net/tun,
// TUNSETIFF, creating an AF_PACKET socket) runs in Netns.Do on a fresh
// goroutine that locks its OS thread and setns(2)es into the namespace;
// the goroutine returns with the thread still locked, so the Go runtime
// discards that thread and no other goroutine ever runs in the namespace
// by accident. File descriptors opened there keep their namespace and are
// used from any thread afterwards.
package taptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Netns is a named network namespace.
type Netns struct {
	Name string
	t    testing.TB
}

var nsSeq atomic.Uint32

// NewNetns creates a namespace named gopasst-test-PID-N, with loopback up,
// and removes it when the test ends. It skips the test unless running as
// root.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	name := fmt.Sprintf("gopasst-test-%d-%d", os.Getpid(), nsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &Netns{Name: name, t: t}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ns.MustRun("ip", "link", "set", "lo", "up")
	return ns
}

// Do runs fn on an OS thread inside the namespace. The thread is never
// returned to the Go scheduler.
func (ns *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread dies with this goroutine.
		fd, err := unix.Open("/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", ns.Name, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Command returns `ip netns exec NAME args...` bound to ctx.
func (ns *Netns) Command(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name}, args...)...)
}

// Run runs args inside the namespace with a 30 s limit and returns the
// combined output.
func (ns *Netns) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := ns.Command(ctx, args...).CombinedOutput()
	return string(out), err
}

// MustRun is Run that fails the test on error.
func (ns *Netns) MustRun(args ...string) string {
	ns.t.Helper()
	out, err := ns.Run(args...)
	if err != nil {
		ns.t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// OpenTap creates tap device name (IFF_TAP|IFF_NO_PI) inside ns and returns
// its fd, non-blocking. The caller owns the fd (close it, usually through
// tap.Device.Close); the device goes away with the fd or the namespace.
func OpenTap(t testing.TB, ns *Netns, name string) int {
	t.Helper()
	return OpenTapFlags(t, ns, name, 0)
}

// OpenTapFlags is OpenTap with more TUNSETIFF flags (unix.IFF_VNET_HDR).
func OpenTapFlags(t testing.TB, ns *Netns, name string, flags uint16) int {
	t.Helper()
	fd := -1
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | flags)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// PacketSocket opens an AF_PACKET raw socket inside ns, bound to device
// ifname for all protocols: writes go out on the device as they are
// (towards the tap fd's reader), reads return every frame the device
// receives or sends. It is closed when the test ends.
func PacketSocket(t testing.TB, ns *Netns, ifname string) int {
	t.Helper()
	fd := -1
	err := ns.Do(func() error {
		ifi, err := netIfIndex(ifname)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind AF_PACKET to %s: %w", ifname, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// netIfIndex returns the index of ifname in the calling thread's namespace.
func netIfIndex(ifname string) (int, error) {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("SIOCGIFINDEX %s: %w", ifname, err)
	}
	return int(ifr.Uint32()), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
