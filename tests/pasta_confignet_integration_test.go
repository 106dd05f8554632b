// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"os/exec"
	"strings"
	"testing"
)

// TestIntegrationPastaConfigNetCopies: --config-net (podman's command
// line) copies every address and route of the host's template interface
// into the namespace, as pasta's nl_addr_dup() and nl_route_dup(), not
// only the first address and the default route; -a stops the addresses
// of its family from being copied, -g the routes. The host has a second
// global address and a route through its gateway in each family.
func TestIntegrationPastaConfigNetCopies(t *testing.T) {
	const (
		addr4, route4 = "198.18.0.5/16", "203.0.113.0/24 via " + uhGw4
		addr6, route6 = "2001:db8:5::5/64", "2001:db8:99::/48 via " + uhGw6
	)
	for _, tc := range []struct {
		name              string
		args              []string
		addrs, routes     bool // the extra ones copied
		wantAddr, wantGw4 string
	}{
		{"copy", nil, true, true, uhAddr4, uhGw4},
		{"-a", []string{"-a", "10.77.1.9", "-a", "2001:db8:77::9"}, false, true, "10.77.1.9", uhGw4},
		{"-g", []string{"-g", uhGw4, "-g", uhGw6}, true, false, uhAddr4, uhGw4},
		{"--no-copy-routes --no-copy-addrs", []string{"--no-copy-routes", "--no-copy-addrs"}, false, false, uhAddr4, uhGw4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostNs := udpHostNs(t)
			mustRun(t, "ip", "-n", hostNs, "addr", "add", addr4, "dev", "up0")
			mustRun(t, "ip", "-n", hostNs, "route", "add", "203.0.113.0/24", "via", uhGw4, "dev", "up0")
			mustRun(t, "ip", "-n", hostNs, "-6", "addr", "add", addr6, "dev", "up0", "nodad")
			mustRun(t, "ip", "-n", hostNs, "-6", "route", "add", "2001:db8:99::/48", "via", uhGw6, "dev", "up0")
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", tc.args...)
			show := func(argv ...string) string {
				out, err := exec.Command("nsenter", append([]string{"--net=" + p.nsPath(), "ip", "-o"}, argv...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("ip %v: %v: %s", argv, err, out)
				}
				return string(out)
			}
			a4, a6 := show("-4", "addr", "show", "scope", "global"), show("-6", "addr", "show", "scope", "global")
			r4, r6 := show("-4", "route", "show"), show("-6", "route", "show")
			if !strings.Contains(a4, " "+tc.wantAddr+"/") {
				t.Errorf("IPv4 addresses lack the guest's %s:\n%s", tc.wantAddr, a4)
			}
			if !strings.Contains(r4, "default via "+tc.wantGw4) {
				t.Errorf("no default route via %s:\n%s", tc.wantGw4, r4)
			}
			for _, c := range []struct {
				what, list, item string
				want             bool
			}{
				{"IPv4 address", a4, " " + addr4 + " ", tc.addrs},
				{"IPv4 route", r4, route4 + " ", tc.routes},
				{"IPv6 route", r6, route6 + " ", tc.routes},
			} {
				if strings.Contains(c.list, c.item) != c.want {
					t.Errorf("%s %q copied: %v, want %v:\n%s", c.what, strings.TrimSpace(c.item), !c.want, c.want, c.list)
				}
			}
			// Which of the host's two global IPv6 addresses the guest gets
			// is the kernel's order: count them instead.
			want6 := 1
			if tc.addrs {
				want6 = 2
			}
			if n := strings.Count(a6, " inet6 "); n != want6 {
				t.Errorf("%d global IPv6 addresses, want %d:\n%s", n, want6, a6)
			}
		})
	}
}
