//go:build integration

// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

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

// TestIntegrationDhclient6 runs ISC dhclient -6 against Reply over a veth
// pair between two network namespaces it creates: the server end joins
// ff02::1:2 on port 547 and answers each message with Reply, unicast to
// the client's link-local address.
func TestIntegrationDhclient6(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	srv := fmt.Sprintf("gpdhcp6-s-%d", os.Getpid())
	cli := fmt.Sprintf("gpdhcp6-c-%d", os.Getpid())
	for _, ns := range []string{srv, cli} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	run(t, "ip", "-n", srv, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", cli)
	// No duplicate address detection: link-local addresses usable at once.
	run(t, "ip", "netns", "exec", srv, "sysctl", "-qw", "net.ipv6.conf.veth0.accept_dad=0")
	run(t, "ip", "netns", "exec", cli, "sysctl", "-qw", "net.ipv6.conf.veth1.accept_dad=0")
	run(t, "ip", "-n", cli, "link", "set", "veth1", "address", "52:54:00:12:34:56", "up")
	run(t, "ip", "-n", srv, "link", "set", "veth0", "up")

	n := &guest.Net{
		OurMAC: guest.DefaultOurMAC,
		FQDN:   "vm1.example.com",
		Search: []string{"example.com", "corp.example.com"},
		V6: guest.Family{
			Addr:      netip.MustParseAddr("2001:db8::1234"),
			PrefixLen: 64,
			DNS:       []netip.Addr{netip.MustParseAddr("2001:db8::53")},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := socketIn(t, srv)
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go func() {
		buf := make([]byte, 1500)
		out := make([]byte, MaxReplySize)
		for {
			k, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if m, ok := Reply(n, buf[:k], out); ok {
				conn.WriteTo(out[:m], from)
			}
		}
	}()

	dir := t.TempDir()
	hook := filepath.Join(dir, "hook.sh")
	script := "#!/bin/sh\nenv > " + dir + "/env.tmp && mv " + dir + "/env.tmp " + dir + "/env.$reason\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", cli, "dhclient", "-6", "-d", "-v", "-1",
		"-sf", hook, "-pf", filepath.Join(dir, "pid"), "-lf", filepath.Join(dir, "leases"), "veth1")
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
			t.Logf("dhclient output:\n%s", out.String())
		}
	})

	env := waitEnv(t, filepath.Join(dir, "env.BOUND6"))
	for k, v := range map[string]string{
		"new_ip6_address":         "2001:db8::1234",
		"new_dhcp6_name_servers":  "2001:db8::53",
		"new_dhcp6_domain_search": "example.com. corp.example.com.",
		"new_max_life":            "4294967295",
		"new_preferred_life":      "4294967295",
		"new_dhcp6_server_id":     "0:3:0:1:9a:55:9a:55:9a:55",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// socketIn opens a UDP socket on [::]:547, bound to veth0 and joined to
// ff02::1:2, inside namespace name, from a thread locked there.
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
		var ifi *net.Interface
		if err == nil {
			ifi, err = net.InterfaceByName("veth0")
		}
		if err != nil {
			ch <- result{err: err}
			return
		}
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		mreq := &unix.IPv6Mreq{Interface: uint32(ifi.Index)}
		copy(mreq.Multiaddr[:], netip.MustParseAddr("ff02::1:2").AsSlice())
		if err = unix.BindToDevice(fd, "veth0"); err == nil {
			err = unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq)
		}
		if err == nil {
			err = unix.Bind(fd, &unix.SockaddrInet6{Port: ServerPort})
		}
		if err != nil {
			unix.Close(fd)
			ch <- result{err: err}
			return
		}
		f := os.NewFile(uintptr(fd), "dhcpv6-server")
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

// waitEnv waits up to 20 s for the hook's dump at path.
func waitEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			env := map[string]string{}
			for _, l := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(l, "="); ok {
					env[k] = v
				}
			}
			return env
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("client never reported %s", filepath.Base(path))
	return nil
}
