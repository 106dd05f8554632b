//go:build integration

// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
)

// TestIntegrationSLAAC writes our router advertisement into a tap device
// in a fresh network namespace and checks that the Linux kernel, as the
// guest, configures a SLAAC address from the prefix, a default route via
// our link-local address and the advertised MTU.
func TestIntegrationSLAAC(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ip not installed")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// This thread enters a new network namespace and is never
		// unlocked: it exits with the goroutine, namespace and all.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		run := func(args ...string) string {
			// Commands fork from this locked thread, so they run in
			// the new namespace.
			out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
			if err != nil {
				t.Errorf("%v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open tun: %v", err)
			return
		}
		defer unix.Close(fd)
		var ifr [unix.IFNAMSIZ + 64]byte
		copy(ifr[:], "gp0")
		*(*uint16)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = unix.IFF_TAP | unix.IFF_NO_PI
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
			t.Errorf("TUNSETIFF: %v", e)
			return
		}
		run(ipCmd, "link", "set", "gp0", "address", "52:54:00:12:34:56", "up")

		n := testNet()
		n.MTU = 1400
		msg := make([]byte, MaxMessageSize)
		m := RouterAdvertisement(n, msg)
		frame := make([]byte, l2.EthernetSize+l2.IPv6MinSize+m)
		l2.Ethernet(frame).Encode([6]byte{0x33, 0x33, 0, 0, 0, 1}, [6]byte(n.OurMAC), l2.EtherTypeIPv6)
		l2.IPv6(frame[l2.EthernetSize:]).Encode(&l2.IPv6Fields{
			PayloadLength: uint16(m), NextHeader: l2.ProtoICMPv6, HopLimit: HopLimit,
			SrcAddr: n.OurLL6, DstAddr: AllNodes,
		})
		copy(frame[l2.EthernetSize+l2.IPv6MinSize:], msg[:m])

		deadline := time.Now().Add(10 * time.Second)
		var addrs, routes, mtu string
		for time.Now().Before(deadline) {
			// Resend: the first copies may arrive before the
			// interface has its link-local address.
			if _, err := unix.Write(fd, frame); err != nil {
				t.Errorf("write tap: %v", err)
				return
			}
			time.Sleep(200 * time.Millisecond)
			addrs = run(ipCmd, "-6", "addr", "show", "dev", "gp0")
			routes = run(ipCmd, "-6", "route", "show", "default")
			mtu = strings.TrimSpace(run("cat", "/proc/sys/net/ipv6/conf/gp0/mtu"))
			if strings.Contains(addrs, "2001:db8:1:2:") && strings.Contains(routes, "via fe80::1") && mtu == "1400" {
				return
			}
		}
		t.Errorf("SLAAC did not complete:\naddresses:\n%s\nroutes:\n%s\nmtu: %s", addrs, routes, mtu)
	}()
	<-done
}
