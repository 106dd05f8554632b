// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestIntegrationPodman runs a real rootless podman 5.8.2 with gopasst's
// pasta (see podman_helpers_integration_test.go) and checks what its
// users do: the container's addresses and routes, reaching the host,
// -p TCP and UDP forwards reached on the host's addresses and loopback,
// --network pasta:OPTIONS, DNS through 169.254.1.1, no pasta left after
// stop and rm, and 20 container cycles.
func TestIntegrationPodman(t *testing.T) {
	e := newPodmanEnv(t)

	t.Run("addresses and routes", func(t *testing.T) {
		out := e.mustPodman(t, "run", "--rm", "--network", "pasta", "--rootfs", e.rootfs,
			"sh", "-c", "ip addr; ip route; ip -6 route")
		for _, want := range []string{
			"inet " + pmAddr4 + "/24", "inet6 " + pmAddr6 + "/64", "mtu 65520",
			"default via " + pmGw4, "default via " + pmGw6,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("container lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("reaching the host", func(t *testing.T) {
		port := 18080
		fd, err := e.nsSock(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet6{Port: port}); err != nil {
			t.Fatal(err)
		}
		unix.Listen(fd, 16)
		f := fileFromFd(fd)
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "host says hi to %s\n", r.RemoteAddr)
		}))
		out, err := e.podman(30*time.Second, "run", "--rm", "--network", "pasta", "--rootfs", e.rootfs,
			"sh", "-c", fmt.Sprintf("timeout 5 wget -q -O- http://host.containers.internal:%d/ && "+
				"timeout 5 wget -q -O- http://169.254.1.2:%d/", port, port))
		if err != nil || strings.Count(out, "host says hi") != 2 {
			t.Errorf("container -> host: %v:\n%s", err, out)
		}
	})

	t.Run("forwards", func(t *testing.T) {
		id := e.run(t, "pasta", []string{"-p", "8080:80", "-p", "5303:5303/udp"},
			"httpd -p 80 -h /www; exec echod -udp 5303")
		defer e.podman(30*time.Second, "rm", "-f", "-t", "0", id)
		ours, _ := filepath.EvalSymlinks(pastaBin)
		running := e.pastas(t)
		if len(running) == 0 {
			t.Errorf("no pasta running for the container")
		}
		for pid, exe := range running {
			if exe != ours {
				t.Errorf("podman ran pasta %d from %s, not %s", pid, exe, ours)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if out, err := curlIn(e.ns, "http://"+pmAddr4+":8080/"); err == nil && strings.Contains(out, "hello") {
				break
			}
			if time.Now().After(deadline) {
				logs, _ := e.podman(10*time.Second, "logs", id)
				t.Fatalf("container's httpd not reachable after 10 s; logs:\n%s", logs)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, a := range []string{pmAddr4, pmAddr6, "127.0.0.1", "::1"} {
			hp := netip.AddrPortFrom(netip.MustParseAddr(a), 8080).String()
			if out, err := curlIn(e.ns, "http://"+hp+"/"); err != nil || !strings.Contains(out, "hello from the container") {
				t.Errorf("TCP -p 8080:80 via %s: %v: %s", hp, err, out)
			}
			if err := udpEchoFrom(t, e.nsSock, hostAddrPort(a, 5303), []byte("podman udp via "+a)); err != nil {
				t.Errorf("UDP -p 5303:5303/udp via %s: %v", a, err)
			}
		}
	})

	t.Run("pasta options", func(t *testing.T) {
		out, err := e.podman(30*time.Second, "run", "--rm", "--network",
			"pasta:-I,eth7,-m,1400,-a,10.88.1.77,-n,24", "--rootfs", e.rootfs,
			"sh", "-c", "ip addr show eth7; ip route")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"mtu 1400", "inet 10.88.1.77/24", "default via " + pmGw4 + " dev eth7"} {
			if !strings.Contains(out, want) {
				t.Errorf("--network pasta:OPTIONS: container lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("DNS via 169.254.1.1", func(t *testing.T) {
		d := startDNSResponder(t, "/run/netns/"+e.ns, netip.MustParseAddrPort(pmResolver+":53"),
			map[string][]netip.Addr{"podman-dns.test": {netip.MustParseAddr("192.0.2.7")}})
		out, err := e.podman(30*time.Second, "run", "--rm", "--network", "pasta", "--rootfs", e.rootfs,
			"sh", "-c", "cat /etc/resolv.conf; timeout 10 nslookup podman-dns.test")
		if !strings.Contains(out, "nameserver 169.254.1.1") {
			t.Errorf("container's resolv.conf does not name 169.254.1.1:\n%s", out)
		}
		if err != nil || !strings.Contains(out, "192.0.2.7") {
			t.Errorf("nslookup through 169.254.1.1: %v:\n%s", err, out)
		}
		if d.udp.Load()+d.tcp.Load() == 0 {
			t.Errorf("the host's resolver got no query")
		}
	})

	t.Run("stop and rm leave no pasta", func(t *testing.T) {
		id := e.run(t, "pasta", []string{"-p", "8082:80"}, "exec sleep 600")
		if len(e.pastas(t)) == 0 {
			t.Fatal("no pasta running for the container")
		}
		e.mustPodman(t, "stop", "-t", "0", id)
		e.mustPodman(t, "rm", id)
		e.waitNoPasta(t, 5*time.Second)
	})

	t.Run("20 cycles", func(t *testing.T) {
		start := time.Now()
		for i := range 20 {
			out, err := e.podman(30*time.Second, "run", "--rm", "--network", "pasta", "-p", "8083:80",
				"--rootfs", e.rootfs, "sh", "-c", "ip route | grep -q 'default via' && echo ok")
			if err != nil || !strings.Contains(out, "ok") {
				t.Fatalf("cycle %d: %v: %s", i, err, out)
			}
		}
		e.waitNoPasta(t, 5*time.Second)
		t.Logf("20 container cycles in %v", time.Since(start).Round(time.Millisecond))
	})
	if t.Failed() {
		if b, err := os.ReadFile(e.resolv); err == nil {
			t.Logf("host resolv.conf: %s", b)
		}
	}
}
