// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	pp := netip.MustParsePrefix
	tests := []struct {
		name  string
		in    string
		want  []Rule // Text is checked separately
		error string
	}{
		{"host", "169.254.169.254", []Rule{{Prefix: pp("169.254.169.254/32"), Proto: ProtoAny}}, ""},
		{"prefix", "169.254.169.254/32", []Rule{{Prefix: pp("169.254.169.254/32"), Proto: ProtoAny}}, ""},
		{"ports", "10.0.0.0/8:22,3306", []Rule{{Prefix: pp("10.0.0.0/8"), Proto: ProtoTCP | ProtoUDP,
			Ports: []PortRange{{22, 22}, {3306, 3306}}}}, ""},
		{"udp port", "udp:10.0.0.0/8:53", []Rule{{Prefix: pp("10.0.0.0/8"), Proto: ProtoUDP, Ports: []PortRange{{53, 53}}}}, ""},
		{"tcp range", "tcp:192.0.2.0/24:1000-2000,80", []Rule{{Prefix: pp("192.0.2.0/24"), Proto: ProtoTCP,
			Ports: []PortRange{{1000, 2000}, {80, 80}}}}, ""},
		{"icmp", "icmp:0.0.0.0/0", []Rule{{Prefix: pp("0.0.0.0/0"), Proto: ProtoICMP}}, ""},
		{"v6", "fd00::/8", []Rule{{Prefix: pp("fd00::/8"), Proto: ProtoAny}}, ""},
		{"v6 host", "2001:db8::1", []Rule{{Prefix: pp("2001:db8::1/128"), Proto: ProtoAny}}, ""},
		{"v6 ports", "tcp:[fd00::/8]:53", []Rule{{Prefix: pp("fd00::/8"), Proto: ProtoTCP, Ports: []PortRange{{53, 53}}}}, ""},
		{"v6 brackets", "[::1]", []Rule{{Prefix: pp("::1/128"), Proto: ProtoAny}}, ""},
		{"mapped", "::ffff:10.0.0.0/104", []Rule{{Prefix: pp("10.0.0.0/8"), Proto: ProtoAny}}, ""},
		{"preset", "preset:metadata", []Rule{
			{Prefix: pp("169.254.169.254/32"), Proto: ProtoAny},
			{Prefix: pp("fd00:ec2::254/128"), Proto: ProtoAny},
			{Prefix: pp("100.100.100.200/32"), Proto: ProtoAny}}, ""},
		{"preset ports", "tcp:preset:host-loopback:22", []Rule{
			{Prefix: pp("127.0.0.0/8"), Proto: ProtoTCP, Ports: []PortRange{{22, 22}}},
			{Prefix: pp("::1/128"), Proto: ProtoTCP, Ports: []PortRange{{22, 22}}}}, ""},

		{"empty", "", nil, "empty rule"},
		{"garbage", "foo", nil, `invalid address "foo"`},
		{"bad proto", "sctp:10.0.0.0/8", nil, `invalid address "sctp"`},
		{"host bits", "10.0.0.1/8", nil, "host bits set"},
		{"bad len", "10.0.0.0/33", nil, "invalid prefix"},
		{"port 0", "10.0.0.0/8:0", nil, `invalid port "0"`},
		{"port big", "10.0.0.0/8:65536", nil, `invalid port "65536"`},
		{"range back", "10.0.0.0/8:20-10", nil, "invalid port range"},
		{"empty ports", "10.0.0.0/8:", nil, "empty port list"},
		{"empty port", "10.0.0.0/8:22,", nil, `invalid port ""`},
		{"icmp ports", "icmp:10.0.0.0/8:22", nil, "icmp has no ports"},
		{"v6 no brackets", "fd00::/8:53", nil, "in brackets"},
		{"unclosed", "[fd00::/8:53", nil, "missing ']'"},
		{"after bracket", "[fd00::/8]53", nil, "expected ':'"},
		{"unknown preset", "preset:cloud", nil, `unknown preset "cloud"`},
		{"zone", "fe80::1%eth0", nil, "invalid address"},
		{"long", strings.Repeat("1", 300), nil, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("ParseRule(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRule(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseRule(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			for i := range got {
				w := tt.want[i]
				w.Text = tt.in
				if got[i].Text != w.Text || got[i].Prefix != w.Prefix || got[i].Proto != w.Proto ||
					len(got[i].Ports) != len(w.Ports) {
					t.Fatalf("rule %d = %+v, want %+v", i, got[i], w)
				}
				for j := range w.Ports {
					if got[i].Ports[j] != w.Ports[j] {
						t.Fatalf("rule %d = %+v, want %+v", i, got[i], w)
					}
				}
			}
		})
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in    string
		rate  bool
		proto Proto
		n     int
		ok    bool
	}{
		{"tcp=10", false, ProtoTCP, 10, true},
		{"udp=5", false, ProtoUDP, 5, true},
		{"any=7", false, ProtoAny, 7, true},
		{"icmp=100/s", true, ProtoICMP, 100, true},
		{"tcp=100/s", false, 0, 0, false},
		{"tcp=0", false, 0, 0, false},
		{"tcp=-1", false, 0, 0, false},
		{"sctp=1", false, 0, 0, false},
		{"tcp", false, 0, 0, false},
		{"tcp=99999999999", false, 0, 0, false},
	}
	for _, tt := range tests {
		p, n, err := ParseLimit(tt.in, tt.rate)
		if (err == nil) != tt.ok || p != tt.proto || n != tt.n {
			t.Errorf("ParseLimit(%q, %v) = %v, %d, %v", tt.in, tt.rate, p, n, err)
		}
	}
}

func TestEgressCheck(t *testing.T) {
	rules := func(ss ...string) []Rule {
		var out []Rule
		for _, s := range ss {
			r, err := ParseRule(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r...)
		}
		return out
	}
	a := netip.MustParseAddr
	tests := []struct {
		name  string
		e     Egress
		proto Proto
		dst   string
		port  uint16
		want  Verdict
	}{
		{"empty", Egress{}, ProtoTCP, "2001:db8::1", 80, VerdictAllow},
		{"deny", Egress{Deny: rules("10.0.0.0/8")}, ProtoUDP, "10.1.2.3", 53, VerdictDeny},
		{"deny other", Egress{Deny: rules("10.0.0.0/8")}, ProtoTCP, "11.1.2.3", 80, VerdictAllow},
		{"deny mapped", Egress{Deny: rules("10.0.0.0/8")}, ProtoTCP, "::ffff:10.1.2.3", 80, VerdictDeny},
		{"deny port hit", Egress{Deny: rules("10.0.0.0/8:22,3306")}, ProtoTCP, "10.1.2.3", 3306, VerdictDeny},
		{"deny port miss", Egress{Deny: rules("10.0.0.0/8:22,3306")}, ProtoTCP, "10.1.2.3", 80, VerdictAllow},
		{"deny ports not icmp", Egress{Deny: rules("10.0.0.0/8:22")}, ProtoICMP, "10.1.2.3", 0, VerdictAllow},
		{"deny udp only", Egress{Deny: rules("udp:10.0.0.0/8:53")}, ProtoTCP, "10.1.2.3", 53, VerdictAllow},
		{"allow in", Egress{Allow: rules("192.0.2.0/24")}, ProtoTCP, "192.0.2.7", 1, VerdictAllow},
		{"allow out", Egress{Allow: rules("192.0.2.0/24")}, ProtoTCP, "198.51.100.1", 1, VerdictDeny},
		{"allow v4 not v6", Egress{Allow: rules("0.0.0.0/0")}, ProtoTCP, "2001:db8::1", 1, VerdictDeny},
		{"deny wins", Egress{Allow: rules("10.0.0.0/8"), Deny: rules("10.0.0.0/16")}, ProtoTCP, "10.0.1.1", 1, VerdictDeny},
		{"deny wins wider", Egress{Allow: rules("10.0.0.0/16"), Deny: rules("10.0.0.0/8")}, ProtoTCP, "10.0.1.1", 1, VerdictDeny},
		{"preset", Egress{Deny: rules("preset:metadata")}, ProtoTCP, "fd00:ec2::254", 80, VerdictDeny},
	}
	for _, tt := range tests {
		if v, _ := tt.e.Check(tt.proto, a(tt.dst), tt.port); v != tt.want {
			t.Errorf("%s: Check(%v, %s, %d) = %v, want %v", tt.name, tt.proto, tt.dst, tt.port, v, tt.want)
		}
	}
}
