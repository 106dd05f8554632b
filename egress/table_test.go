// SPDX-License-Identifier: GPL-2.0-or-later

package egress

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"gopasst/policy"
)

func rules(t testing.TB, specs ...string) []policy.Rule {
	var out []policy.Rule
	for _, s := range specs {
		r, err := policy.ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r...)
	}
	return out
}

func TestTableLookup(t *testing.T) {
	e := &policy.Egress{
		Allow: rules(t, "10.0.0.0/8", "tcp:[2001:db8::/32]:443", "icmp:192.0.2.0/24"),
		Deny:  rules(t, "10.1.0.0/16", "10.2.0.0/16:22", "preset:metadata", "udp:10.3.0.0/16:53-54"),
	}
	tab := Compile(e)
	a := netip.MustParseAddr
	tests := []struct {
		name  string
		proto policy.Proto
		dst   string
		port  uint16
		want  policy.Verdict
		rule  string
	}{
		{"allowed by prefix", policy.ProtoTCP, "10.9.9.9", 80, policy.VerdictAllow, "10.0.0.0/8"},
		{"denied inside allowed", policy.ProtoTCP, "10.1.2.3", 80, policy.VerdictDeny, "10.1.0.0/16"},
		{"denied port", policy.ProtoTCP, "10.2.2.3", 22, policy.VerdictDeny, "10.2.0.0/16:22"},
		{"other port allowed", policy.ProtoTCP, "10.2.2.3", 23, policy.VerdictAllow, "10.0.0.0/8"},
		{"udp rule, tcp flow", policy.ProtoTCP, "10.3.0.1", 53, policy.VerdictAllow, "10.0.0.0/8"},
		{"udp rule", policy.ProtoUDP, "10.3.0.1", 54, policy.VerdictDeny, "udp:10.3.0.0/16:53-54"},
		{"not in allow", policy.ProtoTCP, "198.51.100.1", 80, policy.VerdictDeny, ""},
		{"v6 allow port", policy.ProtoTCP, "2001:db8::5", 443, policy.VerdictAllow, "tcp:[2001:db8::/32]:443"},
		{"v6 other port", policy.ProtoTCP, "2001:db8::5", 80, policy.VerdictDeny, ""},
		{"metadata v6", policy.ProtoUDP, "fd00:ec2::254", 80, policy.VerdictDeny, "preset:metadata"},
		{"metadata mapped", policy.ProtoTCP, "::ffff:169.254.169.254", 80, policy.VerdictDeny, "preset:metadata"},
		{"icmp allowed", policy.ProtoICMP, "192.0.2.9", 0, policy.VerdictAllow, "icmp:192.0.2.0/24"},
		{"icmp ports rule", policy.ProtoICMP, "10.2.0.1", 0, policy.VerdictAllow, "10.0.0.0/8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, r := tab.Lookup(tt.proto, a(tt.dst), tt.port)
			text := ""
			if r != nil {
				text = r.Text
			}
			if v != tt.want || text != tt.rule {
				t.Errorf("Lookup(%v, %s, %d) = %v %q, want %v %q", tt.proto, tt.dst, tt.port, v, text, tt.want, tt.rule)
			}
			if rv, _ := e.Check(tt.proto, a(tt.dst), tt.port); rv != v {
				t.Errorf("reference model says %v", rv)
			}
		})
	}
	if v, _ := Compile(nil).Lookup(policy.ProtoTCP, a("10.1.2.3"), 1); v != policy.VerdictAllow {
		t.Error("empty table denies")
	}
	if v, _ := Compile(&policy.Egress{}).Lookup(policy.ProtoTCP, a("10.1.2.3"), 1); v != policy.VerdictAllow {
		t.Error("empty rules deny")
	}
}

// randomEgress makes n rules of random prefixes, protocols and ports,
// clustered in a few networks so that lookups hit them.
func randomEgress(rng *rand.Rand, n int, withAllow bool) *policy.Egress {
	e := &policy.Egress{}
	protos := []string{"", "tcp:", "udp:", "icmp:"}
	for i := range n {
		var s string
		bits := []int{8, 16, 24, 28, 32}[rng.IntN(5)]
		if rng.IntN(4) == 0 {
			b := [16]byte{0xfd, 0, byte(rng.IntN(4))}
			for j := 3; j < 16; j++ {
				b[j] = byte(rng.IntN(256))
			}
			p := netip.PrefixFrom(netip.AddrFrom16(b), []int{16, 48, 64, 120, 128}[rng.IntN(5)]).Masked()
			s = "[" + p.String() + "]"
		} else {
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			s = netip.PrefixFrom(a, bits).Masked().String()
		}
		proto := protos[rng.IntN(4)]
		if proto != "icmp:" && rng.IntN(2) == 0 {
			lo := 1 + rng.IntN(100)
			s += fmt.Sprintf(":%d-%d,%d", lo, lo+rng.IntN(10), 1+rng.IntN(100))
		}
		r, err := policy.ParseRule(proto + s)
		if err != nil {
			panic(err)
		}
		if withAllow && i%3 == 0 {
			e.Allow = append(e.Allow, r...)
		} else {
			e.Deny = append(e.Deny, r...)
		}
	}
	return e
}

func randomDst(rng *rand.Rand) netip.Addr {
	if rng.IntN(4) == 0 {
		b := [16]byte{0xfd, 0, byte(rng.IntN(4))}
		for j := 3; j < 16; j++ {
			b[j] = byte(rng.IntN(256))
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
}

// TestTableAgainstModel compares the trie with the linear reference
// model, policy.Egress.Check, on random rules and destinations.
func TestTableAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	protos := []policy.Proto{policy.ProtoTCP, policy.ProtoUDP, policy.ProtoICMP}
	for round := range 20 {
		e := randomEgress(rng, 1+rng.IntN(300), round%2 == 0)
		tab := Compile(e)
		for range 5000 {
			p := protos[rng.IntN(3)]
			dst := randomDst(rng)
			port := uint16(1 + rng.IntN(110))
			want, _ := e.Check(p, dst, port)
			got, r := tab.Lookup(p, dst, port)
			if got != want {
				t.Fatalf("round %d: Lookup(%v, %s, %d) = %v (rule %+v), model says %v", round, p, dst, port, got, r, want)
			}
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tab := Compile(randomEgress(rng, 1000, true))
	dst := netip.MustParseAddr("10.1.2.3")
	dst6 := netip.MustParseAddr("fd00:1::1")
	if n := testing.AllocsPerRun(1000, func() {
		tab.Lookup(policy.ProtoTCP, dst, 80)
		tab.Lookup(policy.ProtoUDP, dst6, 53)
	}); n != 0 {
		t.Errorf("Lookup allocates %v per run", n)
	}
}

// BenchmarkLookup compares a lookup with 1,000 deny prefixes (/32 hosts
// spread over 10.0.0.0/8, the case of a long block list) with none.
func BenchmarkLookup(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	e := &policy.Egress{}
	for range 1000 {
		a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		e.Deny = append(e.Deny, rules(b, a.String())...)
	}
	dsts := make([]netip.Addr, 256)
	for i := range dsts {
		dsts[i] = netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
	}
	for _, bc := range []struct {
		name string
		tab  *Table
	}{{"none", Compile(&policy.Egress{})}, {"1000-deny", Compile(e)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				bc.tab.Lookup(policy.ProtoTCP, dsts[i&255], 443)
			}
		})
	}
}
