// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"gopasst/guest"
)

func fam(addr string, plen int, gw string) *guest.Family {
	f := &guest.Family{Addr: netip.MustParseAddr(addr), PrefixLen: plen}
	if gw != "" {
		f.Gateway = netip.MustParseAddr(gw)
	}
	return f
}

func TestAddrFor(t *testing.T) {
	tests := []struct {
		name      string
		f         *guest.Family
		want      string
		wantNoDAD bool
	}{
		{name: "v4", f: fam("192.0.2.2", 24, ""), want: "192.0.2.2/24"},
		{name: "v4 no prefix", f: fam("192.0.2.2", 0, ""), want: "192.0.2.2/32"},
		{name: "v4 bad prefix", f: fam("192.0.2.2", 40, ""), want: "192.0.2.2/32"},
		{name: "v6", f: fam("fd00::2", 64, ""), want: "fd00::2/64", wantNoDAD: true},
		{name: "v6 no prefix", f: fam("fd00::2", -1, ""), want: "fd00::2/128", wantNoDAD: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := addrFor(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.IPNet.String(); got != tt.want {
				t.Errorf("address = %s, want %s", got, tt.want)
			}
			if got := a.Flags&unix.IFA_F_NODAD != 0; got != tt.wantNoDAD {
				t.Errorf("NODAD = %v, want %v", got, tt.wantNoDAD)
			}
		})
	}
}

func TestDefaultRoute(t *testing.T) {
	tests := []struct {
		name       string
		f          *guest.Family
		wantDst    string
		wantFamily int
		wantOnLink bool
	}{
		{name: "v4 on-link", f: fam("192.0.2.2", 24, "192.0.2.1"), wantDst: "0.0.0.0/0", wantFamily: unix.AF_INET},
		{name: "local mode", f: fam("169.254.2.1", 16, "169.254.2.2"), wantDst: "0.0.0.0/0", wantFamily: unix.AF_INET},
		{name: "v4 host route", f: fam("10.0.0.5", 32, "10.0.0.1"), wantDst: "0.0.0.0/0", wantFamily: unix.AF_INET, wantOnLink: true},
		{name: "v4 other subnet", f: fam("10.0.0.5", 24, "10.1.0.1"), wantDst: "0.0.0.0/0", wantFamily: unix.AF_INET, wantOnLink: true},
		{name: "v6 global gw", f: fam("fd00::2", 64, "fd00::1"), wantDst: "::/0", wantFamily: unix.AF_INET6},
		{name: "v6 link-local gw", f: fam("2001:db8::2", 128, "fe80::1"), wantDst: "::/0", wantFamily: unix.AF_INET6},
		{name: "v6 off-link gw", f: fam("2001:db8::2", 128, "2001:db8::1"), wantDst: "::/0", wantFamily: unix.AF_INET6, wantOnLink: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defaultRoute(5, tt.f)
			if r.LinkIndex != 5 || r.Family != tt.wantFamily {
				t.Errorf("route = %+v", r)
			}
			if got := r.Dst.String(); got != tt.wantDst {
				t.Errorf("Dst = %s, want %s", got, tt.wantDst)
			}
			if got := r.Gw.String(); got != tt.f.Gateway.String() {
				t.Errorf("Gw = %s, want %s", got, tt.f.Gateway)
			}
			if got := r.Flags&int(netlink.FLAG_ONLINK) != 0; got != tt.wantOnLink {
				t.Errorf("onlink = %v, want %v", got, tt.wantOnLink)
			}
		})
	}
}

func TestCopiedRoute(t *testing.T) {
	cidr := func(s string) *net.IPNet {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	gw := net.ParseIP("192.0.2.1")
	tests := []struct {
		name string
		r    netlink.Route
		want bool
	}{
		{"static via gateway", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: cidr("203.0.113.0/24"), Gw: gw}, true},
		{"dhcp", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_DHCP, Dst: cidr("198.51.100.0/24"), Gw: gw}, true},
		{"v6 static", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: cidr("2001:db8:99::/48")}, true},
		{"default (nil)", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Gw: gw}, false},
		{"default (0/0)", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: cidr("0.0.0.0/0"), Gw: gw}, false},
		{"prefix route of an address", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Dst: cidr("192.0.2.0/24")}, false},
		{"multicast", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: cidr("ff00::/8")}, false},
		{"link-local", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: cidr("fe80::/64")}, false},
		{"blackhole", netlink.Route{Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_BOOT, Dst: cidr("10.0.0.0/8")}, false},
		{"multipath", netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: cidr("10.0.0.0/8"),
			MultiPath: []*netlink.NexthopInfo{{Gw: gw}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := copiedRoute(tt.r); got != tt.want {
				t.Errorf("copiedRoute = %v, want %v", got, tt.want)
			}
		})
	}
}
