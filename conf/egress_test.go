// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopasst/policy"
)

func TestParseEgress(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		allow []string // rule texts, one per prefix
		deny  []string
		max   policy.FlowLimits
		rate  policy.FlowLimits
		audit string
	}{
		{"deny host", "--egress-deny 169.254.169.254/32", nil, []string{"169.254.169.254/32"}, policy.FlowLimits{}, policy.FlowLimits{}, ""},
		{"deny ports", "--egress-deny 10.0.0.0/8:22,3306 --egress-deny=udp:10.0.0.0/8:53", nil,
			[]string{"10.0.0.0/8:22,3306", "udp:10.0.0.0/8:53"}, policy.FlowLimits{}, policy.FlowLimits{}, ""},
		{"preset", "--egress-deny preset:metadata", nil,
			[]string{"preset:metadata", "preset:metadata", "preset:metadata"}, policy.FlowLimits{}, policy.FlowLimits{}, ""},
		{"allow", "--egress-allow 192.0.2.0/24 --egress-allow tcp:[2001:db8::/32]:443", []string{"192.0.2.0/24", "tcp:[2001:db8::/32]:443"},
			nil, policy.FlowLimits{}, policy.FlowLimits{}, ""},
		{"limits", "--max-flows tcp=10 --max-flows any=3 --max-flows udp=5 --flow-rate icmp=2/s --flow-rate tcp=100", nil, nil,
			policy.FlowLimits{TCP: 3, UDP: 5, ICMP: 3}, policy.FlowLimits{TCP: 100, ICMP: 2}, ""},
		{"audit", "--audit-log -", nil, nil, policy.FlowLimits{}, policy.FlowLimits{}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(policy.ModePasta, strings.Fields(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			texts := func(rs []policy.Rule) []string {
				var out []string
				for _, r := range rs {
					out = append(out, r.Text)
				}
				return out
			}
			if g := texts(c.Egress.Allow); strings.Join(g, " ") != strings.Join(tt.allow, " ") {
				t.Errorf("allow = %q, want %q", g, tt.allow)
			}
			if g := texts(c.Egress.Deny); strings.Join(g, " ") != strings.Join(tt.deny, " ") {
				t.Errorf("deny = %q, want %q", g, tt.deny)
			}
			if c.Limits.MaxFlows != tt.max || c.Limits.FlowRate != tt.rate || c.AuditLog != tt.audit {
				t.Errorf("limits %+v audit %q", c.Limits, c.AuditLog)
			}
		})
	}
}

func TestParseEgressErrors(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"--egress-deny 10.0.0.0/8:ssh", `--egress-deny: rule "10.0.0.0/8:ssh": invalid port "ssh"`},
		{"--egress-allow 10.0.0.1/8", `--egress-allow: rule "10.0.0.1/8": prefix "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)`},
		{"--egress-deny preset:cloud", `--egress-deny: rule "preset:cloud": unknown preset "cloud" (known: host-loopback, metadata, private)`},
		{"--egress-deny icmp:10.0.0.0/8:1", `--egress-deny: rule "icmp:10.0.0.0/8:1": icmp has no ports`},
		{"--egress-deny", "option '--egress-deny' requires an argument"},
		{"--max-flows tcp", `--max-flows: invalid limit "tcp": want PROTO=N`},
		{"--flow-rate tcp=0/s", `--flow-rate: invalid limit "tcp=0/s": want 1..16777216`},
		{"--egress-block 10.0.0.0/8", "unrecognized option '--egress-block'"},
	}
	for _, tt := range tests {
		_, err := Parse(policy.ModePasta, strings.Fields(tt.line))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v, want %q", tt.line, err, tt.want)
		}
	}
}

// TestParseEgressMerge: the command line adds rules to the file's, and
// limits given on the command line win per protocol.
func TestParseEgressMerge(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.toml")
	err := os.WriteFile(file, []byte(`[egress]
deny = ["preset:metadata"]
allow = ["10.0.0.0/8"]
[limits]
max_flows = { tcp = 10, udp = 20 }
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(policy.ModePasta, []string{"--egress-deny", "10.9.0.0/16", "--config", file, "--max-flows", "udp=5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Egress.Deny) != 4 || c.Egress.Deny[3].Text != "10.9.0.0/16" || len(c.Egress.Allow) != 1 {
		t.Errorf("Egress = %+v", c.Egress)
	}
	if c.Limits.MaxFlows != (policy.FlowLimits{TCP: 10, UDP: 5}) {
		t.Errorf("MaxFlows = %+v", c.Limits.MaxFlows)
	}
}
