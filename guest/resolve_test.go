// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gopasst/policy"
)

var cmpNet = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

// homeHost is a typical dual-stack host behind a home router, with
// systemd-resolved.
func homeHost() HostInfo {
	a := netip.MustParseAddr
	return HostInfo{
		V4: HostFamily{Ifname: "eth0", Ifindex: 2, MTU: 1500, Addr: a("192.168.1.20"), PrefixLen: 24, Gateway: a("192.168.1.1")},
		V6: HostFamily{Ifname: "eth0", Ifindex: 2, MTU: 1500, Addr: a("2001:db8::20"), PrefixLen: 64,
			Gateway: a("fe80::1:1"), LinkLocal: a("fe80::20")},
		Resolvers: []netip.Addr{a("127.0.0.53")},
		Search:    []string{"lan"},
	}
}

func TestResolve(t *testing.T) {
	a := netip.MustParseAddr
	passt := func(f func(c *policy.Config)) *policy.Config {
		c := policy.NewConfig(policy.ModePasst)
		if f != nil {
			f(c)
		}
		return c
	}
	pasta := func(f func(c *policy.Config)) *policy.Config {
		c := policy.NewConfig(policy.ModePasta)
		if f != nil {
			f(c)
		}
		return c
	}
	// base is what passt hands out on homeHost with no options.
	base := func(f func(n *Net)) *Net {
		n := &Net{
			MTU: 65520, OurMAC: DefaultOurMAC, GuestMAC: BroadcastMAC,
			Search: []string{"lan"},
			V4: Family{Addr: a("192.168.1.20"), PrefixLen: 24, Gateway: a("192.168.1.1"),
				MapHostLo: a("192.168.1.1"), DNSForward: a("192.168.1.1"), DNSHost: a("127.0.0.53"),
				DNS: []netip.Addr{a("192.168.1.1")}, HostAddr: a("192.168.1.20")},
			V6: Family{Addr: a("2001:db8::20"), PrefixLen: 64, Gateway: a("fe80::1:1"),
				MapHostLo: a("fe80::1:1"), HostAddr: a("2001:db8::20")},
			OurLL6: a("fe80::1:1"),
		}
		if f != nil {
			f(n)
		}
		return n
	}
	noRoutes := HostInfo{Resolvers: []netip.Addr{a("192.0.2.53"), a("2001:db8::53")}}
	// local is what passt hands out with no host routes (local mode), with
	// IPv4 prefix length plen.
	local := func(plen int) *Net {
		return &Net{
			MTU: 65520, OurMAC: DefaultOurMAC, GuestMAC: BroadcastMAC,
			V4: Family{Addr: a("169.254.2.1"), PrefixLen: plen, Gateway: a("169.254.2.2"),
				MapHostLo: a("169.254.2.2"), HostAddr: a("169.254.2.1"),
				DNS: []netip.Addr{a("192.0.2.53")}, DNSHost: a("192.0.2.53")},
			V6:     Family{Gateway: a("fe80::1"), MapHostLo: a("fe80::1"), DNSHost: a("2001:db8::53")},
			OurLL6: a("fe80::1"), NoNDP: true, NoDHCPv6: true,
		}
	}

	tests := []struct {
		name string
		cfg  *policy.Config
		host HostInfo
		want *Net
	}{
		{"defaults: loopback resolver via map-host-loopback", passt(nil), homeHost(), base(nil)},
		{"podman: dns-forward, no-map-gw", pasta(func(c *policy.Config) {
			c.DNSForward = []netip.Addr{a("169.254.1.1")}
			c.NoMapGW, c.ConfigNet = true, true
			c.MapGuestAddr = []netip.Addr{a("169.254.1.2")}
		}), homeHost(), base(func(n *Net) {
			// pasta: DNS not advertised by DHCP unless --dhcp-dns; search neither.
			n.Search = nil
			n.V4.MapHostLo, n.V6.MapHostLo = netip.Addr{}, netip.Addr{}
			n.V4.DNS, n.V4.DNSForward = nil, a("169.254.1.1")
			n.V4.MapGuest = a("169.254.1.2")
			n.NoRA = true
		})},
		{"pasta dhcp-dns advertises dns-forward", pasta(func(c *policy.Config) {
			c.DNSForward = []netip.Addr{a("169.254.1.1")}
			c.NoMapGW, c.NoDHCPDNS, c.NoDHCPSearch = true, false, false
		}), homeHost(), base(func(n *Net) {
			n.V4.MapHostLo, n.V6.MapHostLo = netip.Addr{}, netip.Addr{}
			n.V4.DNS, n.V4.DNSForward = []netip.Addr{a("169.254.1.1")}, a("169.254.1.1")
		})},
		{"loopback resolver unreachable", passt(func(c *policy.Config) { c.NoMapGW = true }), homeHost(),
			base(func(n *Net) {
				n.V4.MapHostLo, n.V6.MapHostLo = netip.Addr{}, netip.Addr{}
				n.V4.DNS, n.V4.DNSForward = nil, netip.Addr{}
			})},
		{"remote resolvers as is", passt(nil), func() HostInfo {
			h := homeHost()
			h.Resolvers = []netip.Addr{a("192.0.2.53"), a("2001:db8::53"), a("192.0.2.54"), a("192.0.2.55"), a("192.0.2.56")}
			return h
		}(), base(func(n *Net) {
			n.V4.DNS = []netip.Addr{a("192.0.2.53"), a("192.0.2.54"), a("192.0.2.55")} // at most 3
			n.V4.DNSForward, n.V4.DNSHost = netip.Addr{}, a("192.0.2.53")
			n.V6.DNS, n.V6.DNSHost = []netip.Addr{a("2001:db8::53")}, a("2001:db8::53")
		})},
		{"-D and -S", passt(func(c *policy.Config) {
			c.DNS = []netip.Addr{a("198.51.100.53"), a("2001:db8::5353")}
			c.Search = []string{"example.org"}
		}), homeHost(), base(func(n *Net) {
			n.V4.DNS, n.V4.DNSForward = []netip.Addr{a("198.51.100.53")}, netip.Addr{}
			n.V6.DNS = []netip.Addr{a("2001:db8::5353")}
			n.Search = []string{"example.org"}
		})},
		{"-D of one family: the other's from the host", passt(func(c *policy.Config) {
			c.DNS = []netip.Addr{a("198.51.100.53")}
		}), func() HostInfo {
			h := homeHost()
			h.Resolvers = []netip.Addr{a("192.0.2.53"), a("2001:db8::53")}
			return h
		}(), base(func(n *Net) {
			n.V4.DNS, n.V4.DNSForward, n.V4.DNSHost = []netip.Addr{a("198.51.100.53")}, netip.Addr{}, a("192.0.2.53")
			n.V6.DNS, n.V6.DNSHost = []netip.Addr{a("2001:db8::53")}, a("2001:db8::53")
		})},
		{"-D none -S none", passt(func(c *policy.Config) { c.NoDNS, c.NoSearch = true, true }), homeHost(),
			base(func(n *Net) {
				n.V4.DNS, n.V4.DNSForward, n.V4.DNSHost, n.Search = nil, netip.Addr{}, netip.Addr{}, nil
			})},
		{"dns-host given", passt(func(c *policy.Config) {
			c.DNSForward = []netip.Addr{a("10.0.2.3")}
			c.DNSHost = []netip.Addr{a("192.0.2.99")}
		}), homeHost(), base(func(n *Net) {
			n.V4.DNS, n.V4.DNSForward, n.V4.DNSHost = []netip.Addr{a("10.0.2.3")}, a("10.0.2.3"), a("192.0.2.99")
		})},
		{"rootlesskit overrides", pasta(func(c *policy.Config) {
			c.Addresses = []netip.Prefix{netip.MustParsePrefix("10.0.2.100/24")}
			c.Gateways = []netip.Addr{a("10.0.2.2")}
			c.DNSForward = []netip.Addr{a("10.0.2.3")}
			c.MTU, c.MTUSet, c.IPv4Only, c.NsMAC = 65520, true, true, "02:00:00:00:00:07"
		}), homeHost(), &Net{
			MTU: 65520, OurMAC: DefaultOurMAC, GuestMAC: MAC{2, 0, 0, 0, 0, 7},
			V4: Family{Addr: a("10.0.2.100"), PrefixLen: 24, Gateway: a("10.0.2.2"),
				MapHostLo: a("10.0.2.2"), DNSForward: a("10.0.2.3"), DNSHost: a("127.0.0.53"), HostAddr: a("192.168.1.20")},
			OurLL6: a("fe80::1"), NoNDP: true, NoDHCPv6: true,
		}},
		{"-a bare with -n", passt(func(c *policy.Config) {
			c.Addresses = []netip.Prefix{netip.PrefixFrom(a("10.1.2.3"), -1)}
			c.Netmask = 16
		}), homeHost(), base(func(n *Net) { n.V4.Addr, n.V4.PrefixLen = a("10.1.2.3"), 16 })},
		{"-n without -a", passt(func(c *policy.Config) { c.Netmask = 16 }), homeHost(),
			base(func(n *Net) { n.V4.PrefixLen = 16 })},
		{"-a bare classful", passt(func(c *policy.Config) {
			c.Addresses = []netip.Prefix{netip.PrefixFrom(a("172.16.0.9"), -1), netip.PrefixFrom(a("2001:db8:1::9"), -1)}
		}), homeHost(), base(func(n *Net) {
			n.V4.Addr, n.V4.PrefixLen = a("172.16.0.9"), 16
			n.V6.Addr, n.V6.PrefixLen = a("2001:db8:1::9"), 64
		})},
		{"local mode", passt(nil), noRoutes, local(16)},
		{"local mode -n", passt(func(c *policy.Config) { c.Netmask = 24 }), noRoutes, local(24)},
		{"local mode with -a -g", passt(func(c *policy.Config) {
			c.Addresses = []netip.Prefix{netip.MustParsePrefix("10.0.0.2/8"), netip.MustParsePrefix("fd00::2/64")}
			c.Gateways = []netip.Addr{a("10.0.0.1")}
			c.NoMapGW = true
		}), noRoutes, &Net{
			MTU: 65520, OurMAC: DefaultOurMAC, GuestMAC: BroadcastMAC,
			V4: Family{Addr: a("10.0.0.2"), PrefixLen: 8, Gateway: a("10.0.0.1"), HostAddr: a("10.0.0.2"),
				DNS: []netip.Addr{a("192.0.2.53")}, DNSHost: a("192.0.2.53")},
			V6: Family{Addr: a("fd00::2"), PrefixLen: 64, Gateway: a("fe80::1"), HostAddr: a("fd00::2"),
				DNS: []netip.Addr{a("2001:db8::53")}, DNSHost: a("2001:db8::53")},
			OurLL6: a("fe80::1"),
		}},
		{"ipv6 only, global gateway", passt(func(c *policy.Config) {
			c.IPv6Only = true
			c.Gateways = []netip.Addr{a("2001:db8::1")}
		}), homeHost(), &Net{
			MTU: 65520, OurMAC: DefaultOurMAC, GuestMAC: BroadcastMAC, Search: []string{"lan"},
			V6: Family{Addr: a("2001:db8::20"), PrefixLen: 64, Gateway: a("2001:db8::1"),
				MapHostLo: a("2001:db8::1"), HostAddr: a("2001:db8::20")},
			OurLL6: a("fe80::1"), NoDHCP: true,
		}},
		{"switches", passt(func(c *policy.Config) {
			c.NoICMP, c.NoTCP, c.NoUDP, c.NoDHCPv6, c.NoDHCP = true, true, true, true, true
			c.MAC, c.MTU, c.MTUSet = "02:aa:bb:cc:dd:ee", 0, true
			c.Hostname, c.FQDN = "vm", "vm.example"
			c.MapHostLoopback = []netip.Addr{a("192.0.2.254")}
			c.Outbound = []netip.Addr{a("192.168.1.21")}
		}), homeHost(), base(func(n *Net) {
			n.NoICMP, n.NoNDP, n.NoTCP, n.NoUDP, n.NoDHCPv6, n.NoDHCP = true, true, true, true, true, true
			n.OurMAC, n.MTU = MAC{2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}, 0
			n.Hostname, n.FQDN = "vm", "vm.example"
			n.V4.MapHostLo, n.V4.Outbound = a("192.0.2.254"), a("192.168.1.21")
			// 127.0.0.53 is reached through the mapped address.
			n.V4.DNS, n.V4.DNSForward = []netip.Addr{a("192.0.2.254")}, a("192.0.2.254")
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.cfg, tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpNet); d != "" {
				t.Errorf("Net (-want +got):\n%s", d)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		f    func(c *policy.Config)
	}{
		{"bad mac", func(c *policy.Config) { c.MAC = "zz" }},
		{"bad ns mac", func(c *policy.Config) { c.NsMAC = "1:2:3" }},
		{"bad mtu", func(c *policy.Config) { c.MTU, c.MTUSet = 20, true }},
		{"both only", func(c *policy.Config) { c.IPv4Only, c.IPv6Only = true, true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := policy.NewConfig(policy.ModePasst)
			tt.f(c)
			if _, err := Resolve(c, homeHost()); err == nil {
				t.Error("Resolve succeeded")
			}
		})
	}
}

func TestReadResolvConf(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name   string
		in     string
		ns     []netip.Addr
		search []string
	}{
		{"resolved stub", "# comment\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
			[]netip.Addr{a("127.0.0.53")}, []string{"lan"}},
		{"mixed", "nameserver 192.0.2.1\nnameserver fe80::1%eth0\nnameserver bogus\nnameserver\ndomain a.example\nsearch b.example c.example\n",
			[]netip.Addr{a("192.0.2.1"), a("fe80::1")}, []string{"b.example", "c.example"}},
		{"tabs", "nameserver\t2001:db8::1\n", []netip.Addr{a("2001:db8::1")}, nil},
		{"empty", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, s, err := ReadResolvConf(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.ns, ns, cmpNet); d != "" {
				t.Errorf("nameservers: %s", d)
			}
			if d := cmp.Diff(tt.search, s, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("search: %s", d)
			}
		})
	}
}

func newTestConfig() *policy.Config { return policy.NewConfig(policy.ModePasst) }
