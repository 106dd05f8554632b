// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"net/netip"
	"testing"

	"gopasst/guest"
)

func testNet() *guest.Net {
	a := netip.MustParseAddr
	return &guest.Net{
		V4: guest.Family{
			Addr: a("192.0.2.10"), PrefixLen: 24, Gateway: a("192.0.2.1"),
			MapHostLo: a("192.0.2.1"), MapGuest: a("169.254.1.2"),
			DNSForward: a("169.254.1.1"), DNSHost: a("127.0.0.53"), HostAddr: a("192.0.2.99"),
		},
		V6: guest.Family{
			Addr: a("2001:db8::10"), PrefixLen: 64, Gateway: a("fe80::1"),
			MapHostLo: a("fe80::1"), DNSForward: a("fd00::53"), DNSHost: a("2001:db8::53"),
			HostAddr: a("2001:db8::10"),
		},
	}
}

func TestHostDestination(t *testing.T) {
	a := netip.MustParseAddr
	n := testNet()
	tests := []struct {
		name     string
		dst      string
		port     uint16
		udp      bool
		wantDst  string
		wantPort uint16
	}{
		{"dns udp", "169.254.1.1", 53, true, "127.0.0.53", 53},
		{"dns tcp", "169.254.1.1", 53, false, "127.0.0.53", 53},
		{"dot tcp", "169.254.1.1", 853, false, "127.0.0.53", 853},
		{"dot udp not", "169.254.1.1", 853, true, "169.254.1.1", 853},
		{"dns addr other port", "169.254.1.1", 80, false, "169.254.1.1", 80},
		{"map host lo", "192.0.2.1", 8080, false, "127.0.0.1", 8080},
		{"map guest: the guest's address, not the host's", "169.254.1.2", 22, false, "192.0.2.10", 22},
		{"other", "198.51.100.7", 443, false, "198.51.100.7", 443},
		{"mapped v4", "::ffff:192.0.2.1", 80, false, "127.0.0.1", 80},
		{"v6 map lo", "fe80::1", 80, true, "::1", 80},
		{"v6 dns", "fd00::53", 53, true, "2001:db8::53", 53},
		{"v6 other", "2001:db8::99", 53, true, "2001:db8::99", 53},
		{"v6 no map guest", "169.254.1.2", 1, true, "192.0.2.10", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := HostDestination(n, a(tt.dst), tt.port, tt.udp)
			if d != a(tt.wantDst) || p != tt.wantPort {
				t.Errorf("HostDestination(%s, %d) = %s, %d; want %s, %d", tt.dst, tt.port, d, p, tt.wantDst, tt.wantPort)
			}
		})
	}
	// Without DNSHost, DNSForward is not translated; without Addr,
	// MapGuest is not.
	m := &guest.Net{V4: guest.Family{DNSForward: a("10.0.0.3"), MapGuest: a("10.0.0.4")}}
	if d, _ := HostDestination(m, a("10.0.0.3"), 53, true); d != a("10.0.0.3") {
		t.Errorf("DNS without host: %s", d)
	}
	if d, _ := HostDestination(m, a("10.0.0.4"), 53, true); d != a("10.0.0.4") {
		t.Errorf("MapGuest without Addr: %s", d)
	}
}

func TestGuestSource(t *testing.T) {
	a := netip.MustParseAddr
	n := testNet()
	tests := []struct {
		name string
		src  string
		port uint16
		udp  bool
		want string
	}{
		{"loopback", "127.0.0.1", 1000, false, "192.0.2.1"},
		{"loopback other", "127.1.2.3", 1000, false, "192.0.2.1"},
		{"mapped loopback", "::ffff:127.0.0.1", 1000, false, "192.0.2.1"},
		{"guest addr", "192.0.2.10", 1000, false, "169.254.1.2"},
		{"host addr other than the guest's", "192.0.2.99", 1000, false, "192.0.2.99"},
		{"other", "198.51.100.7", 443, false, "198.51.100.7"},
		{"dns reply", "127.0.0.53", 53, true, "169.254.1.1"},
		{"dns host other port", "127.0.0.53", 54, true, "192.0.2.1"},
		{"v6 loopback", "::1", 80, false, "fe80::1"},
		{"v6 host addr no map", "2001:db8::10", 80, false, "2001:db8::10"},
		{"v6 dns reply", "2001:db8::53", 53, false, "fd00::53"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GuestSourcePort(n, a(tt.src), tt.port, tt.udp); got != a(tt.want) {
				t.Errorf("GuestSourcePort(%s, %d) = %s, want %s", tt.src, tt.port, got, tt.want)
			}
		})
	}
	m := &guest.Net{}
	if got := GuestSource(m, a("127.0.0.1")); got != a("127.0.0.1") {
		t.Errorf("unmapped loopback = %s", got)
	}
	if got := GuestSource(n, a("127.0.0.53")); got != a("192.0.2.1") {
		t.Errorf("GuestSource without port = %s", got)
	}
}

// TestNATRoundTrip checks that GuestSource undoes HostDestination for
// the mapped addresses.
func TestNATRoundTrip(t *testing.T) {
	n := testNet()
	for _, dst := range []netip.Addr{n.V4.MapHostLo, n.V4.MapGuest, n.V6.MapHostLo, n.V4.DNSForward, n.V6.DNSForward} {
		h, p := HostDestination(n, dst, 53, true)
		if back := GuestSourcePort(n, h, p, true); back != dst {
			t.Errorf("%s → %s → %s", dst, h, back)
		}
	}
}

func TestNATAllocs(t *testing.T) {
	n := testNet()
	dst := netip.MustParseAddr("192.0.2.1")
	src := netip.MustParseAddr("::1")
	var m interface {
		HostDestination(netip.Addr, uint16, bool) (netip.Addr, uint16)
	}
	allocs := testing.AllocsPerRun(100, func() {
		m = NAT{n}
		m.HostDestination(dst, 80, false)
		HostDestination(n, dst, 80, false)
		GuestSource(n, src)
		GuestSourcePort(n, src, 53, true)
	})
	if allocs != 0 {
		t.Errorf("mapping allocates %v times", allocs)
	}
}

func BenchmarkHostDestination(b *testing.B) {
	n := testNet()
	dst := netip.MustParseAddr("2001:db8::99")
	b.ReportAllocs()
	for b.Loop() {
		HostDestination(n, dst, 443, false)
	}
}
