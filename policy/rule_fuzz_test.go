// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"strings"
	"testing"
)

// FuzzParseRule: ParseRule never panics; an error is one line; a rule it
// accepts is well formed (masked prefix, a protocol, ports in order, none
// for ICMP) and parses again to the same rules.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"169.254.169.254/32", "10.0.0.0/8:22,3306", "udp:10.0.0.0/8:53", "tcp:[fd00::/8]:1-65535",
		"preset:metadata", "tcp:preset:private:80", "icmp:::1", "[::ffff:10.0.0.0/104]", "fd00::/8:53", "10.0.0.1/8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseRule(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(rules) == 0 {
			t.Fatalf("%q: no rules and no error", s)
		}
		for _, r := range rules {
			if r.Text != s || r.Prefix.Masked() != r.Prefix || r.Prefix.Addr().Is4In6() || r.Proto == 0 || r.Proto&^ProtoAny != 0 {
				t.Fatalf("%q: bad rule %+v", s, r)
			}
			if len(r.Ports) > 0 && r.Proto&ProtoICMP != 0 {
				t.Fatalf("%q: ports on an ICMP rule %+v", s, r)
			}
			for _, p := range r.Ports {
				if p.First == 0 || p.First > p.Last {
					t.Fatalf("%q: bad port range %+v", s, p)
				}
			}
		}
		again, err := ParseRule(s)
		if err != nil || len(again) != len(rules) {
			t.Fatalf("%q: parses once, not twice: %v", s, err)
		}
	})
}
