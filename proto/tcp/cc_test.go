// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLocalCC: a socket towards a local peer is moved from BBR to reno;
// one towards another address keeps BBR.
func TestLocalCC(t *testing.T) {
	e := newEnv(t, 4)
	e.net.V4.HostAddr = netip.MustParseAddr("192.0.2.2")
	for _, tt := range []struct {
		peer string
		want string
	}{
		{"127.0.0.1", "reno"},
		{"::1", "reno"},
		{"192.0.2.2", "reno"},
		{"198.51.100.7", "bbr"},
	} {
		t.Run(tt.peer, func(t *testing.T) {
			fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, "bbr"); err != nil {
				t.Skipf("cannot select bbr: %v", err)
			}
			e.h.localCC(fd, netip.MustParseAddr(tt.peer))
			got, err := unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("congestion control %q, want %q", got, tt.want)
			}
		})
	}
}
