//go:build integration

// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"gopasst/guest"
)

// These tests run real DHCP clients against Reply over a veth pair between
// two network namespaces they create: the server end holds the gateway
// address and a UDP socket on port 67 that answers with Reply, broadcast.

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// vethPair creates namespaces srv and cli joined by veth0 (srv, with
// 192.168.1.1/24) and veth1 (cli), both up, and returns their names.
func vethPair(t *testing.T) (srv, cli string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	srv = fmt.Sprintf("gpdhcp-s-%d", os.Getpid())
	cli = fmt.Sprintf("gpdhcp-c-%d", os.Getpid())
	for _, ns := range []string{srv, cli} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	run(t, "ip", "-n", srv, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", cli)
	run(t, "ip", "-n", cli, "link", "set", "veth1", "address", "52:54:00:12:34:56", "up")
	run(t, "ip", "-n", srv, "addr", "add", "192.168.1.1/24", "dev", "veth0")
	run(t, "ip", "-n", srv, "link", "set", "veth0", "up")
	return srv, cli
}

// serve answers DHCP on port 67 in namespace ns until ctx ends.
func serve(t *testing.T, ctx context.Context, ns string, n *guest.Net) {
	t.Helper()
	conn := socketIn(t, ns)
	t.Cleanup(func() { conn.Close() })
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go func() {
		buf := make([]byte, 1500)
		out := make([]byte, MaxReplySize)
		dst := &net.UDPAddr{IP: net.IPv4bcast, Port: 68}
		for {
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if m, _, ok := Reply(n, buf[:k], out); ok {
				conn.WriteTo(out[:m], dst)
			}
		}
	}()
}

// socketIn opens the server socket inside namespace ns, from a thread
// locked there for the duration.
func socketIn(t *testing.T, name string) net.PacketConn {
	t.Helper()
	type result struct {
		c   net.PacketConn
		err error
	}
	ch := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.GetFromName(name)
		if err == nil {
			defer ns.Close()
			err = netns.Set(ns)
		}
		if err != nil {
			ch <- result{err: err}
			return
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		for _, o := range []int{unix.SO_REUSEADDR, unix.SO_BROADCAST} {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, o, 1)
		}
		if err = unix.BindToDevice(fd, "veth0"); err == nil {
			err = unix.Bind(fd, &unix.SockaddrInet4{Port: 67})
		}
		if err != nil {
			unix.Close(fd)
			ch <- result{err: err}
			return
		}
		f := os.NewFile(uintptr(fd), "dhcp-server")
		c, err := net.FilePacketConn(f)
		f.Close()
		ch <- result{c, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("server socket in %s: %v", name, r.err)
	}
	return r.c
}

func integrationNet() *guest.Net {
	return &guest.Net{
		MTU:      1500,
		OurMAC:   guest.DefaultOurMAC,
		Hostname: "vm1",
		Search:   []string{"example.com", "corp.example.com"},
		V4: guest.Family{
			Addr:      netip.MustParseAddr("192.168.1.100"),
			PrefixLen: 24,
			Gateway:   netip.MustParseAddr("192.168.1.1"),
			DNS:       []netip.Addr{netip.MustParseAddr("192.168.1.53")},
		},
	}
}

// clientScript writes a hook script that dumps its environment to
// dir/env.<reason>, where reason is $1 (udhcpc) or $reason (dhclient).
func clientScript(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "hook.sh")
	s := "#!/bin/sh\nr=${reason:-$1}\nenv > " + dir + "/env.tmp && mv " + dir + "/env.tmp " + dir + "/env.$r\n"
	if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitEnv waits up to 20 s for dir/env.<reason> and returns its variables.
func waitEnv(t *testing.T, dir, reason string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(dir, "env."+reason))
		if err == nil {
			env := map[string]string{}
			for _, l := range bytes.Split(b, []byte("\n")) {
				if k, v, ok := strings.Cut(string(l), "="); ok {
					env[k] = v
				}
			}
			return env
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("client never reported %s", reason)
	return nil
}

// start runs cmd in the background and kills it, by PID, at cleanup.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", cmd.Path, out.String())
		}
	})
}

func checkEnv(t *testing.T, env map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

func TestIntegrationUdhcpc(t *testing.T) {
	srv, cli := vethPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serve(t, ctx, srv, integrationNet())
	dir := t.TempDir()
	start(t, exec.CommandContext(ctx, "ip", "netns", "exec", cli, "busybox", "udhcpc",
		"-f", "-q", "-n", "-t", "5", "-T", "1", "-i", "veth1", "-s", clientScript(t, dir),
		"-x", "hostname:vm1", "-O", "search", "-O", "121"))
	env := waitEnv(t, dir, "bound")
	checkEnv(t, env, map[string]string{
		"ip": "192.168.1.100", "subnet": "255.255.255.0", "mask": "24",
		"router": "192.168.1.1", "dns": "192.168.1.53", "serverid": "192.168.1.1",
		"domain": "example.com", "search": "example.com corp.example.com",
		"hostname": "vm1", "mtu": "1500", "lease": "4294967295",
	})
}

func TestIntegrationDhclient(t *testing.T) {
	srv, cli := vethPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serve(t, ctx, srv, integrationNet())
	dir := t.TempDir()
	start(t, exec.CommandContext(ctx, "ip", "netns", "exec", cli, "dhclient", "-d", "-v", "-1",
		"-sf", clientScript(t, dir), "-pf", filepath.Join(dir, "pid"), "-lf", filepath.Join(dir, "leases"),
		"veth1"))
	env := waitEnv(t, dir, "BOUND")
	checkEnv(t, env, map[string]string{
		"new_ip_address": "192.168.1.100", "new_subnet_mask": "255.255.255.0",
		"new_routers": "192.168.1.1", "new_domain_name_servers": "192.168.1.53",
		"new_dhcp_server_identifier": "192.168.1.1", "new_domain_name": "example.com",
		"new_domain_search": "example.com. corp.example.com.", "new_interface_mtu": "1500",
		"new_host_name": "vm1", "new_dhcp_lease_time": "4294967295",
	})
}
