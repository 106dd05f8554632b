// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package netns

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"gopasst/guest"
	"gopasst/policy"
)

// TestMain lets the test binary serve as nsinit for Spawn, which
// re-executes /proc/self/exe.
func TestMain(m *testing.M) {
	if Stage() == StageNsinit {
		err := NsInit(os.Args)
		fmt.Fprintln(os.Stderr, "nsinit:", err)
		os.Exit(127)
	}
	os.Exit(m.Run())
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// addNetns creates a named network namespace and removes it on cleanup.
func addNetns(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("gpnetns%d", os.Getpid()%100000)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// nsHandle returns a netlink handle in the namespace at path.
func nsHandle(t *testing.T, path string) *netlink.Handle {
	t.Helper()
	ns, err := vnetns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func TestIntegrationOpenTapConfigureNet(t *testing.T) {
	requireRoot(t)
	name := addNetns(t)
	path := NetnsDir + "/" + name
	w, err := NewWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	mac, _ := net.ParseMAC("02:00:00:aa:bb:cc")
	fd, ifname, err := OpenTap(w, "gptap0", 1400, mac, false)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if ifname != "gptap0" {
		t.Errorf("ifname = %q", ifname)
	}
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
		t.Error("tap fd is blocking")
	}
	n := &guest.Net{
		V4: guest.Family{Addr: netip.MustParseAddr("10.77.0.5"), PrefixLen: 24, Gateway: netip.MustParseAddr("10.77.0.1")},
		V6: guest.Family{Addr: netip.MustParseAddr("fd77::5"), PrefixLen: 64, Gateway: netip.MustParseAddr("fe80::1")},
	}
	if _, err := ConfigureNet(w, ifname, n, true, [2]Copied{}); err != nil {
		t.Fatal(err)
	}

	h := nsHandle(t, path)
	link, err := h.LinkByName("gptap0")
	if err != nil {
		t.Fatal(err)
	}
	a := link.Attrs()
	if a.MTU != 1400 || a.TxQLen != TxQueueLen || a.HardwareAddr.String() != mac.String() || a.Flags&net.FlagUp == 0 {
		t.Errorf("link: mtu %d txqlen %d mac %s flags %v", a.MTU, a.TxQLen, a.HardwareAddr, a.Flags)
	}
	if lo, err := h.LinkByName("lo"); err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo not up: %v", err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ad := range addrs {
		got = append(got, ad.IPNet.String())
	}
	for _, want := range []string{"10.77.0.5/24", "fd77::5/64"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("addresses %v lack %s", got, want)
		}
	}
	for _, tc := range []struct {
		family int
		gw     string
	}{{netlink.FAMILY_V4, "10.77.0.1"}, {netlink.FAMILY_V6, "fe80::1"}} {
		routes, err := h.RouteList(link, tc.family)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range routes {
			if r.Gw != nil && r.Gw.String() == tc.gw {
				found = true
			}
		}
		if !found {
			t.Errorf("no default route via %s: %v", tc.gw, routes)
		}
	}
	// The worker thread is in the namespace; the test's thread is not.
	var inNS bool
	w.Do(func() error {
		_, err := net.InterfaceByName("gptap0")
		inNS = err == nil
		return nil
	})
	if !inNS {
		t.Error("worker does not see the tap")
	}
	if _, err := net.InterfaceByName("gptap0"); err == nil {
		t.Error("tap visible from the host namespace")
	}
}

func TestIntegrationOpenTapNoConfigNet(t *testing.T) {
	requireRoot(t)
	name := addNetns(t)
	path := NetnsDir + "/" + name
	w, err := NewWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	fd, ifname, err := OpenTap(w, "gptap1", DefaultMTU, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	n := &guest.Net{V4: guest.Family{Addr: netip.MustParseAddr("10.77.0.5"), PrefixLen: 24}}
	if _, err := ConfigureNet(w, ifname, n, false, [2]Copied{}); err != nil {
		t.Fatal(err)
	}
	h := nsHandle(t, path)
	link, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	if link.Attrs().MTU != DefaultMTU || link.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("mtu %d flags %v", link.Attrs().MTU, link.Attrs().Flags)
	}
	addrs, _ := h.AddrList(link, netlink.FAMILY_V4)
	if len(addrs) != 0 {
		t.Errorf("addresses without --config-net: %v", addrs)
	}
	var ra []byte
	w.Do(func() error {
		ra, err = os.ReadFile("/proc/sys/net/ipv6/conf/" + ifname + "/accept_ra")
		return nil
	})
	if strings.TrimSpace(string(ra)) != "1" {
		t.Errorf("accept_ra = %q", ra)
	}
}

func TestIntegrationSpawn(t *testing.T) {
	requireRoot(t)
	cfg := &policy.Config{}
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// Stdout of nsinit is ours; have the command write to a file.
	target, err := Spawn(cfg, []string{"sh", "-c", "echo $$ > " + out.Name() + "; ip -o link show gpsp0 >> " + out.Name() + "; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	fd, _, err := OpenTap(target.Worker(), "gpsp0", DefaultMTU, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	// Not released yet: the command has not run.
	time.Sleep(100 * time.Millisecond)
	if b, _ := os.ReadFile(out.Name()); len(b) != 0 {
		t.Fatalf("command ran before Release: %q", b)
	}
	if err := target.Release(); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- target.Wait() }()
	select {
	case st := <-done:
		if st != 3 {
			t.Errorf("status %d, want 3", st)
		}
	case <-time.After(10 * time.Second):
		unix.Kill(target.Pid(), unix.SIGKILL)
		t.Fatal("command did not finish")
	}
	b, _ := os.ReadFile(out.Name())
	lines := strings.SplitN(string(b), "\n", 2)
	if lines[0] != "1" {
		t.Errorf("command PID in its namespace = %q, want 1", lines[0])
	}
	if len(lines) < 2 || !strings.Contains(lines[1], "gpsp0") {
		t.Errorf("command does not see the tap: %q", b)
	}
}

func TestIntegrationWorkerSocket(t *testing.T) {
	requireRoot(t)
	name := addNetns(t)
	w, err := NewWorker(NetnsDir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	cookie := func(fd int) uint64 {
		t.Helper()
		c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
		if err != nil {
			t.Skipf("SO_NETNS_COOKIE: %v", err)
		}
		return c
	}
	fd, err := w.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	fd2, err := w.Socket(unix.AF_INET6, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd2)
	host, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(host)
	if cookie(fd) != cookie(fd2) {
		t.Error("two worker sockets in different namespaces")
	}
	if cookie(fd) == cookie(host) {
		t.Error("worker socket in the host's namespace")
	}
}
