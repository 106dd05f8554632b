// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadExample(t *testing.T) {
	c := NewConfig(ModePasst)
	if err := Load("testdata/example.toml", c); err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	if c.MTU != 1500 || !c.MTUSet {
		t.Errorf("MTU = %d set %v", c.MTU, c.MTUSet)
	}
	wantAddr := []netip.Prefix{netip.MustParsePrefix("10.0.2.100/24"), netip.PrefixFrom(a("fd00::100"), -1)}
	if d := cmp.Diff(wantAddr, c.Addresses, cmpRules, cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); d != "" {
		t.Errorf("Addresses (-want +got):\n%s", d)
	}
	if c.Netmask != -1 || c.Fd != -1 {
		t.Errorf("Netmask %d Fd %d: not-given values overwritten", c.Netmask, c.Fd)
	}
	if d := cmp.Diff([]netip.Addr{a("127.0.0.53")}, c.DNSHost, cmpRules); d != "" {
		t.Errorf("DNSHost: %s", d)
	}
	if d := cmp.Diff([]string{"example.org", "corp.example.org"}, c.Search); d != "" {
		t.Errorf("Search: %s", d)
	}
	if !c.Quiet || !c.NoDHCPv6 || !c.NoMapGW || !c.OneOff || c.Socket != "/tmp/gopasst.socket" {
		t.Errorf("flags: %+v", c)
	}
	if c.TCPIn == nil || c.TCPIn.String() != "TCP [*]:22 => 2022; TCP [127.0.0.1]:8080 => 8080; TCP [127.0.0.1]:8082-8090 => 8082-8090" {
		t.Errorf("TCPIn = %v", c.TCPIn)
	}
	if to, ok := c.TCPIn.Lookup(22); !ok || to != 2022 {
		t.Errorf("TCPIn.Lookup(22) = %d, %v", to, ok)
	}
	if c.UDPIn == nil || c.UDPIn.String() != "UDP [*]:53 => 53" || c.TCPOut != nil {
		t.Errorf("UDPIn = %v TCPOut = %v", c.UDPIn, c.TCPOut)
	}
	if c.Egress.Allowed(a("169.254.169.254")) || !c.Egress.Allowed(a("192.0.2.1")) {
		t.Errorf("Egress: %+v", c.Egress)
	}
}

func TestLoadKeepsUnsetFields(t *testing.T) {
	c := NewConfig(ModePasta)
	c.Hostname = "kept"
	c.DNS = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	if err := decode("dns = [\"192.0.2.9\"]\n", c); err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "kept" || len(c.DNS) != 1 || c.DNS[0] != netip.MustParseAddr("192.0.2.9") {
		t.Errorf("got %q %v", c.Hostname, c.DNS)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		file string
		want []string // substrings of the error
	}{
		{"unknown key", ModePasst, "mtu = 1500\nfoo = 1\n", []string{`"foo"`, "line 2"}},
		{"unknown table key", ModePasst, "[egress]\nallow = []\nblock = []\n", []string{`"egress.block"`, "line 3"}},
		{"unknown table", ModePasst, "quiet = true\n\n[routes]\nx = 1\n", []string{"routes", "line 3"}},
		{"not-toml field", ModePasst, "Mode = 1\n", []string{`"Mode"`, "line 1"}},
		{"mtu type", ModePasst, "mtu = \"big\"\n", []string{"mtu", "line 1"}},
		{"mtu range low", ModePasst, "\nmtu = 20\n", []string{`"mtu"`, "line 2", "out of range"}},
		{"mtu range high", ModePasst, "mtu = 65521\n", []string{`"mtu"`, "line 1"}},
		{"bad gateway", ModePasst, "gateway = [\"10.0.0.300\"]\n", []string{"gateway", "line 1"}},
		{"loopback gateway", ModePasst, "gateway = [\"127.0.0.1\"]\n", []string{`"gateway"`, "line 1"}},
		{"bad address", ModePasst, "address = [\"10.0.0.1/33\"]\n", []string{`"address"`, "line 1"}},
		{"address type", ModePasst, "address = \"10.0.0.1\"\n", []string{"address", "line 1"}},
		{"bad prefix", ModePasst, "[egress]\ndeny = [\"10.0.0.0/40\"]\n", []string{"deny", "line 2"}},
		{"bad netmask", ModePasst, "netmask = 33\n", []string{`"netmask"`}},
		{"bad mac", ModePasst, "mac = \"9a:55\"\n", []string{`"mac"`, "line 1"}},
		{"bad port spec", ModePasst, "tcp_ports = [\"22\", \"ssh\"]\n", []string{`"tcp_ports"`, `'ssh'`, "line 1"}},
		{"auto in passt", ModePasst, "udp_ports = [\"auto\"]\n", []string{`"udp_ports"`}},
		{"pasta key in passt", ModePasst, "netns = \"/run/netns/x\"\n", []string{`"netns"`, "passt mode"}},
		{"ns ports in passt", ModePasst, "tcp_ns_ports = [\"22\"]\n", []string{`"tcp_ns_ports"`}},
		{"passt key in pasta", ModePasta, "socket = \"/tmp/s\"\n", []string{`"socket"`, "pasta mode"}},
		{"syntax", ModePasst, "mtu = \n", []string{"line 1"}},
		{"bad iface", ModePasst, "interface = \"a/b\"\n", []string{`"interface"`}},
		{"both only", ModePasst, "ipv4_only = true\nipv6_only = true\n", []string{"ipv6_only", "line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.toml")
			if err := os.WriteFile(p, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c := NewConfig(tt.mode)
			c.Hostname = "before"
			err := Load(p, c)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if c.Hostname != "before" {
				t.Error("config changed on error")
			}
		})
	}
	if err := Load("/nonexistent/x.toml", NewConfig(ModePasst)); err == nil {
		t.Error("missing file loaded")
	}
}

func TestEgressAllowed(t *testing.T) {
	pp := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	tests := []struct {
		name string
		e    *Egress
		dst  string
		want bool
	}{
		{"nil", nil, "192.0.2.1", true},
		{"empty", &Egress{}, "2001:db8::1", true},
		{"deny", &Egress{Deny: pp("10.0.0.0/8")}, "10.1.2.3", false},
		{"deny other", &Egress{Deny: pp("10.0.0.0/8")}, "11.1.2.3", true},
		{"allow in", &Egress{Allow: pp("192.0.2.0/24")}, "192.0.2.7", true},
		{"allow out", &Egress{Allow: pp("192.0.2.0/24")}, "198.51.100.1", false},
		{"allow v4 not v6", &Egress{Allow: pp("0.0.0.0/0")}, "2001:db8::1", false},
		{"deny wins", &Egress{Allow: pp("10.0.0.0/8"), Deny: pp("10.0.0.0/24")}, "10.0.0.5", false},
		{"mapped", &Egress{Deny: pp("10.0.0.0/8")}, "::ffff:10.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Allowed(netip.MustParseAddr(tt.dst)); got != tt.want {
				t.Errorf("Allowed(%s) = %v", tt.dst, got)
			}
		})
	}
	e := &Egress{Allow: pp("10.0.0.0/8"), Deny: pp("10.0.0.0/24")}
	dst := netip.MustParseAddr("10.9.9.9")
	if n := testing.AllocsPerRun(100, func() { e.Allowed(dst) }); n != 0 {
		t.Errorf("Allowed allocates %v", n)
	}
}
