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
	for _, f := range []struct {
		proto Proto
		dst   string
		port  uint16
		want  Verdict
	}{
		{ProtoTCP, "169.254.169.254", 80, VerdictDeny}, // preset:metadata
		{ProtoTCP, "fd00:ec2::254", 80, VerdictDeny},   // preset:metadata
		{ProtoTCP, "10.1.2.3", 22, VerdictDeny},        // 10.0.0.0/8:22,3306
		{ProtoTCP, "10.1.2.3", 80, VerdictAllow},
		{ProtoUDP, "10.1.2.3", 53, VerdictDeny}, // udp:10.0.0.0/8:53
		{ProtoTCP, "10.1.2.3", 53, VerdictAllow},
		{ProtoICMP, "192.0.2.1", 0, VerdictAllow},
	} {
		if v, _ := c.Egress.Check(f.proto, a(f.dst), f.port); v != f.want {
			t.Errorf("Egress.Check(%v, %s, %d) = %v, want %v", f.proto, f.dst, f.port, v, f.want)
		}
	}
	if c.Limits.MaxFlows != (FlowLimits{TCP: 1024, UDP: 512, ICMP: 64}) || c.Limits.FlowRate != (FlowLimits{TCP: 200, UDP: 200}) {
		t.Errorf("Limits = %+v", c.Limits)
	}
	if c.AuditLog != "/var/log/gopasst-flows.jsonl" {
		t.Errorf("AuditLog = %q", c.AuditLog)
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
		{"bad rule", ModePasst, "quiet = true\n[egress]\nallow = [\"tcp:10.0.0.0/8:ssh\"]\n", []string{`"egress.allow"`, "line 3", `"ssh"`}},
		{"rule type", ModePasst, "[egress]\ndeny = \"10.0.0.0/8\"\n", []string{"deny", "line 2"}},
		{"unknown limit", ModePasst, "[limits]\nmax_flows = { tcp = 1, sctp = 2 }\n", []string{"limits.max_flows.sctp", "line 2"}},
		{"negative limit", ModePasst, "[limits]\nflow_rate = { udp = -1 }\n", []string{`"limits.flow_rate"`, "line 2", "udp"}},
		{"unknown limits key", ModePasst, "[limits]\nmax_conns = 1\n", []string{"limits.max_conns", "line 2"}},
		{"empty audit", ModePasst, "audit_log = \"\"\n", []string{`"audit_log"`, "line 1"}},
		{"bad netmask", ModePasst, "netmask = 33\n", []string{`"netmask"`}},
		{"bad mac", ModePasst, "mac = \"9a:55\"\n", []string{`"mac"`, "line 1"}},
		{"bad port spec", ModePasst, "tcp_ports = [\"22\", \"ssh\"]\n", []string{`"tcp_ports"`, `'ssh'`, "line 1"}},
		{"auto in passt", ModePasst, "udp_ports = [\"auto\"]\n", []string{`"udp_ports"`}},
		{"pasta key in passt", ModePasst, "netns = \"/run/netns/x\"\n", []string{`"netns"`, "passt mode"}},
		{"ns ports in passt", ModePasst, "tcp_ns_ports = [\"22\"]\n", []string{`"tcp_ns_ports"`}},
		{"passt key in pasta", ModePasta, "socket = \"/tmp/s\"\n", []string{`"socket"`, "pasta mode"}},
		{"syntax", ModePasst, "mtu = \n", []string{"line 1"}},
		{"newline in lexer message", ModePasst, "mtu = 0b\n0\n", []string{`"mtu"`, "line 1", `'0b\n'`}},
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
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
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
