// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpRules = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func mustParse(t testing.TB, mode Mode, specs ...string) *Forward {
	t.Helper()
	var f *Forward
	for _, s := range specs {
		var err error
		if f, err = ParseForward(s, f, mode); err != nil {
			t.Fatalf("ParseForward(%q): %v", s, err)
		}
	}
	return f
}

func TestParseForward(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name  string
		mode  Mode
		specs []string
		want  ForwardMode
		rules []PortRule
	}{
		{"none", ModePasst, []string{"none"}, ForwardNone, nil},
		{"none twice", ModePasta, []string{"none", "none"}, ForwardNone, nil},
		{"single", ModePasst, []string{"22"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}}},
		{"remap", ModePasst, []string{"22:2022"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 2022}}},
		{"range remap", ModePasst, []string{"8000-8010:9000-9010"}, ForwardSpec,
			[]PortRule{{First: 8000, Last: 8010, ToFirst: 9000}}},
		{"range remap short target", ModePasst, []string{"22-80:32"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 80, ToFirst: 32}}},
		{"list", ModePasst, []string{"22,25"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}, {First: 25, Last: 25, ToFirst: 25}}},
		{"bind v4", ModePasst, []string{"127.0.0.1/8080"}, ForwardSpec,
			[]PortRule{{Bind: a("127.0.0.1"), First: 8080, Last: 8080, ToFirst: 8080}}},
		{"bind v6 bracketed", ModePasst, []string{"[::1]/22"}, ForwardSpec,
			[]PortRule{{Bind: a("::1"), First: 22, Last: 22, ToFirst: 22}}},
		{"bind v6 bare", ModePasst, []string{"::1/22"}, ForwardSpec,
			[]PortRule{{Bind: a("::1"), First: 22, Last: 22, ToFirst: 22}}},
		{"bind iface", ModePasst, []string{"192.0.2.1%eth0/22"}, ForwardSpec,
			[]PortRule{{Bind: a("192.0.2.1"), Iface: "eth0", First: 22, Last: 22, ToFirst: 22}}},
		{"iface only", ModePasst, []string{"%eth0/22"}, ForwardSpec,
			[]PortRule{{Iface: "eth0", First: 22, Last: 22, ToFirst: 22}}},
		{"wildcard", ModePasst, []string{"*/80"}, ForwardSpec,
			[]PortRule{{First: 80, Last: 80, ToFirst: 80}}},
		{"target addr", ModePasst, []string{"0.0.0.0/5000:192.0.2.5/6000"}, ForwardSpec,
			[]PortRule{{Bind: a("0.0.0.0"), First: 5000, Last: 5000, ToFirst: 6000, ToAddr: a("192.0.2.5")}}},
		{"target addr no bind", ModePasst, []string{"5000:192.0.2.5/6000"}, ForwardSpec,
			[]PortRule{{First: 5000, Last: 5000, ToFirst: 6000, ToAddr: a("192.0.2.5")}}},
		{"target addr same port", ModePasst, []string{"53:192.0.2.5"}, ForwardSpec,
			[]PortRule{{First: 53, Last: 53, ToFirst: 53, ToAddr: a("192.0.2.5")}}},
		{"target v6", ModePasst, []string{"22:[2001:db8::1]/23"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 23, ToAddr: a("2001:db8::1")}}},
		{"all", ModePasst, []string{"all"}, ForwardAll,
			[]PortRule{{First: 1, Last: 65535, ToFirst: 1, All: true}}},
		{"all target", ModePasta, []string{"127.0.0.6/all:192.0.2.6"}, ForwardAll,
			[]PortRule{{Bind: a("127.0.0.6"), First: 1, Last: 65535, ToFirst: 1, All: true, ToAddr: a("192.0.2.6")}}},
		{"exclude only", ModePasst, []string{"~25"}, ForwardAll,
			[]PortRule{{First: 1, Last: 65535, ToFirst: 1, All: true}, {First: 25, Last: 25, ToFirst: 25, Exclude: true}}},
		{"range and exclude", ModePasst, []string{"2000-5000,~3000-3010"}, ForwardSpec,
			[]PortRule{{First: 2000, Last: 5000, ToFirst: 2000}, {First: 3000, Last: 3010, ToFirst: 3000, Exclude: true}}},
		{"auto", ModePasta, []string{"auto"}, ForwardAuto,
			[]PortRule{{First: 1, Last: 65535, ToFirst: 1, Auto: true}}},
		{"auto ranges", ModePasta, []string{"8000-8010,auto"}, ForwardAuto,
			[]PortRule{{First: 8000, Last: 8010, ToFirst: 8000, Auto: true}}},
		{"auto bind", ModePasta, []string{"::1/auto"}, ForwardAuto,
			[]PortRule{{Bind: a("::1"), First: 1, Last: 65535, ToFirst: 1, Auto: true}}},
		{"accumulate", ModePasst, []string{"22", "127.0.0.1/80:8080"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}, {Bind: a("127.0.0.1"), First: 80, Last: 80, ToFirst: 8080}}},
		{"podman", ModePasta, []string{"127.0.0.1/8080-8080:80-80"}, ForwardSpec,
			[]PortRule{{Bind: a("127.0.0.1"), First: 8080, Last: 8080, ToFirst: 80}}},
		{"max port", ModePasst, []string{"65535:1"}, ForwardSpec,
			[]PortRule{{First: 65535, Last: 65535, ToFirst: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.mode, tt.specs...)
			if f.Mode != tt.want {
				t.Errorf("Mode = %v, want %v", f.Mode, tt.want)
			}
			if d := cmp.Diff(tt.rules, f.Rules, cmpRules); d != "" {
				t.Errorf("Rules (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseForwardErrors(t *testing.T) {
	tests := []struct {
		name  string
		mode  Mode
		specs []string // all but the last must succeed
		part  string   // the error must name this
	}{
		{"empty", ModePasst, []string{""}, `""`},
		{"zero port", ModePasst, []string{"0"}, `"0"`},
		{"too big", ModePasst, []string{"65536"}, `"65536"`},
		{"negative", ModePasst, []string{"-1"}, `"-1"`},
		{"reversed", ModePasst, []string{"80-22"}, `"80-22"`},
		{"letters", ModePasst, []string{"22,ssh"}, `"ssh"`},
		{"empty entry", ModePasst, []string{"22,,23"}, `""`},
		{"trailing comma", ModePasst, []string{"22,"}, `""`},
		{"target size", ModePasst, []string{"22-80:32-40"}, `"22-80:32-40"`},
		{"target overflow", ModePasst, []string{"100-200:65500"}, `"100-200:65500"`},
		{"bad target addr", ModePasst, []string{"22:foo/23"}, `"22:foo/23"`},
		{"bad bind", ModePasst, []string{"300.1.1.1/22"}, `"300.1.1.1/22"`},
		{"auto in passt", ModePasst, []string{"auto"}, `'auto'`},
		{"none after rules", ModePasta, []string{"22", "none"}, "conflicts"},
		{"rules after none", ModePasta, []string{"none", "22"}, "conflicts"},
		{"all and auto", ModePasta, []string{"all", "auto"}, "conflicts"},
		{"all and auto one spec", ModePasta, []string{"all,auto"}, "conflicts"},
		{"exclude with target", ModePasst, []string{"~22:23"}, `"~22:23"`},
		{"space", ModePasst, []string{"22 23"}, `"22 23"`},
		{"zone", ModePasst, []string{"[fe80::1%eth0]/22"}, "fe80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.mode, tt.specs[:len(tt.specs)-1]...)
			var before []PortRule
			if f != nil {
				before = append(before, f.Rules...)
			}
			last := tt.specs[len(tt.specs)-1]
			_, err := ParseForward(last, f, tt.mode)
			if err == nil {
				t.Fatalf("ParseForward(%q) succeeded", last)
			}
			if !strings.Contains(err.Error(), tt.part) {
				t.Errorf("error %q does not name %s", err, tt.part)
			}
			if f != nil {
				if d := cmp.Diff(before, f.Rules, cmpRules); d != "" {
					t.Errorf("prev changed on error:\n%s", d)
				}
			}
		})
	}
	_, err := ParseForward("22", mustParse(t, ModePasta, "none"), ModePasta)
	if !errors.Is(err, ErrForwardConflict) {
		t.Errorf("error %v is not ErrForwardConflict", err)
	}
}

func TestForwardLookup(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		port  uint16
		to    uint16
		ok    bool
	}{
		{"single", []string{"22"}, 22, 22, true},
		{"not forwarded", []string{"22"}, 23, 0, false},
		{"remap", []string{"22:2022"}, 22, 2022, true},
		{"range delta", []string{"22-80:32-90"}, 50, 60, true},
		{"excluded", []string{"5-25,~10-20"}, 15, 0, false},
		{"not excluded", []string{"5-25,~10-20"}, 21, 21, true},
		{"exclude across specs", []string{"5-25", "~10-20"}, 15, 0, false},
		{"all low", []string{"all"}, 1, 1, true},
		{"all ephemeral", []string{"all"}, 40000, 0, false},
		{"all above ephemeral", []string{"all"}, 61000, 61000, true},
		{"exclude only", []string{"~25"}, 26, 26, true},
		{"exclude only excluded", []string{"~25"}, 25, 0, false},
		{"first rule wins", []string{"80:8080", "80:9090"}, 80, 8080, true},
		{"none", []string{"none"}, 80, 0, false},
		{"port 65535", []string{"65535"}, 65535, 65535, true},
		{"port 0 never", []string{"all"}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, ModePasta, tt.specs...)
			to, ok := f.Lookup(tt.port)
			if to != tt.to || ok != tt.ok {
				t.Errorf("Lookup(%d) = %d, %v; want %d, %v", tt.port, to, ok, tt.to, tt.ok)
			}
		})
	}
	var nilf *Forward
	if _, ok := nilf.Lookup(1); ok {
		t.Error("nil Forward forwards")
	}
}

func TestForwardLookupAllocs(t *testing.T) {
	f := mustParse(t, ModePasst, "22-80:32-90,~50", "all")
	var sink uint16
	n := testing.AllocsPerRun(100, func() {
		for p := 0; p < 65536; p += 97 {
			to, _ := f.Lookup(uint16(p))
			sink += to
		}
	})
	if n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
	_ = sink
}

func TestForwardListeners(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name  string
		specs []string
		want  []Listener
	}{
		{"none", []string{"none"}, nil},
		{"range excl", []string{"5-8,~6"}, []Listener{
			{Port: 5, ToPort: 5}, {Port: 7, ToPort: 7}, {Port: 8, ToPort: 8}}},
		{"bind and target", []string{"127.0.0.1/80-81:10.0.0.2/8080"}, []Listener{
			{Bind: a("127.0.0.1"), Port: 80, ToPort: 8080, ToAddr: a("10.0.0.2")},
			{Bind: a("127.0.0.1"), Port: 81, ToPort: 8081, ToAddr: a("10.0.0.2")}}},
		{"two binds same port", []string{"127.0.0.1/80", "[::1]/80:81"}, []Listener{
			{Bind: a("127.0.0.1"), Port: 80, ToPort: 80},
			{Bind: a("::1"), Port: 80, ToPort: 81}}},
		{"duplicate", []string{"80", "80:81"}, []Listener{{Port: 80, ToPort: 80}}},
		{"auto has none", []string{"8000-8001,auto"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, ModePasta, tt.specs...)
			if d := cmp.Diff(tt.want, f.Listeners(), cmpRules); d != "" {
				t.Errorf("Listeners (-want +got):\n%s", d)
			}
		})
	}
	t.Run("all count", func(t *testing.T) {
		f := mustParse(t, ModePasst, "all,~22")
		f.SetEphemeral(PortRange{32768, 60999})
		want := 65535 - (60999 - 32768 + 1) - 1
		if got := len(f.Listeners()); got != want {
			t.Errorf("len = %d, want %d", got, want)
		}
	})
}

// refRule is the reference model's view of a rule, built independently of
// the parser.
type refRule struct {
	first, last, to uint16
	exclude, all    bool
}

// refLookup is the naive model: scan excludes, then the first include.
func refLookup(rules []refRule, eph PortRange, p uint16) (uint16, bool) {
	if p == 0 {
		return 0, false
	}
	for _, r := range rules {
		if r.exclude && p >= r.first && p <= r.last {
			return 0, false
		}
	}
	for _, r := range rules {
		if r.exclude || p < r.first || p > r.last {
			continue
		}
		if r.all && p >= eph.First && p <= eph.Last {
			continue
		}
		return r.to + (p - r.first), true
	}
	return 0, false
}

func TestForwardReferenceModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	port := func() uint16 { return uint16(1 + rng.IntN(65535)) }
	for iter := range 50 {
		var model []refRule
		var specs []string
		var excl []refRule
		for range 1 + rng.IntN(4) {
			var ents []string
			var incl []refRule
			for range 1 + rng.IntN(5) {
				switch rng.IntN(6) {
				case 0: // exclude
					a := port()
					b := a + uint16(rng.IntN(int(65535-a)+1)%300)
					ents = append(ents, fmt.Sprintf("~%d-%d", a, b))
					excl = append(excl, refRule{first: a, last: b, exclude: true})
				case 1: // all
					if rng.IntN(4) == 0 {
						ents = append(ents, "all")
						incl = append(incl, refRule{first: 1, last: 65535, to: 1, all: true})
						break
					}
					fallthrough
				default: // range with optional remap
					a := port()
					n := uint16(rng.IntN(int(65535-a)+1) % 500)
					to := uint16(1 + rng.IntN(65535-int(n)))
					if rng.IntN(2) == 0 {
						to = a
					}
					ents = append(ents, fmt.Sprintf("%d-%d:%d-%d", a, a+n, to, to+n))
					incl = append(incl, refRule{first: a, last: a + n, to: to})
				}
			}
			if len(incl) == 0 {
				incl = append(incl, refRule{first: 1, last: 65535, to: 1, all: true})
			}
			model = append(model, incl...)
			specs = append(specs, strings.Join(ents, ","))
		}
		model = append(model, excl...)
		f := mustParse(t, ModePasst, specs...)
		for p := 0; p < 65536; p++ {
			wt, wok := refLookup(model, f.Ephemeral, uint16(p))
			gt, gok := f.Lookup(uint16(p))
			if wt != gt || wok != gok {
				t.Fatalf("iter %d specs %q: Lookup(%d) = %d,%v; model %d,%v", iter, specs, p, gt, gok, wt, wok)
			}
		}
		// Listeners agree with Lookup when nothing is bound.
		for _, l := range f.Listeners() {
			if to, ok := f.Lookup(l.Port); !ok || (to != l.ToPort && !l.Bind.IsValid()) {
				t.Fatalf("specs %q: listener %+v but Lookup = %d,%v", specs, l, to, ok)
			}
		}
		checkRoundTrip(t, f, ModePasst)
	}
}

// canonical orders rules as a re-parse of Specs produces them: includes
// in order, then excludes in order.
func canonical(rules []PortRule) []PortRule {
	var in, ex []PortRule
	for _, r := range rules {
		if r.Exclude {
			ex = append(ex, r)
		} else {
			in = append(in, r)
		}
	}
	return append(in, ex...)
}

func checkRoundTrip(t testing.TB, f *Forward, mode Mode) {
	t.Helper()
	var g *Forward
	for _, s := range f.Specs() {
		var err error
		if g, err = ParseForward(s, g, mode); err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", s, f.Specs(), err)
		}
	}
	if g.Mode != f.Mode {
		t.Fatalf("round trip %q: mode %v, want %v", f.Specs(), g.Mode, f.Mode)
	}
	if d := cmp.Diff(canonical(f.Rules), canonical(g.Rules), cmpRules); d != "" {
		t.Fatalf("round trip %q (-orig +reparsed):\n%s", f.Specs(), d)
	}
}

func TestForwardSpecs(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		want  string
	}{
		{"none", []string{"none"}, "none"},
		{"remap", []string{"22:2022"}, "22:2022"},
		{"bind", []string{"[::1]/22", "192.0.2.1%eth0/80-81"}, "[::1]/22 192.0.2.1%eth0/80-81"},
		{"exclude only", []string{"~25"}, "all,~25"},
		{"target", []string{"0.0.0.0/5000:192.0.2.5/6000"}, "0.0.0.0/5000:192.0.2.5/6000"},
		{"all target", []string{"all:[2001:db8::1]"}, "all:[2001:db8::1]"},
		{"auto", []string{"80-82,auto"}, "80-82,auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, ModePasta, tt.specs...)
			if got := f.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			checkRoundTrip(t, f, ModePasta)
		})
	}
}

func FuzzParseForward(f *testing.F) {
	for _, s := range []string{
		"none", "all", "auto", "22", "22:2022", "8000-8010:9000-9010", "~8080",
		"127.0.0.1/8080", "[::1]/22", "192.0.2.1%eth0/22", "*/80",
		"0.0.0.0/5000:192.0.2.5/6000", "127.0.0.6/all:192.0.2.6",
		"2000-5000,~3000-3010", "80-82,auto", "::1/auto", "22:[::1]/23",
	} {
		f.Add(s, s, true)
	}
	f.Fuzz(func(t *testing.T, a, b string, pasta bool) {
		mode := ModePasst
		if pasta {
			mode = ModePasta
		}
		fw, err := ParseForward(a, nil, mode)
		if err != nil {
			return
		}
		if g, err := ParseForward(b, fw, mode); err == nil {
			fw = g
		}
		for _, p := range []uint16{0, 1, 22, 80, 32767, 32768, 65535} {
			if to, ok := fw.Lookup(p); ok && (p == 0 || to == 0) {
				t.Fatalf("Lookup(%d) = %d", p, to)
			}
		}
		checkRoundTrip(t, fw, mode)
	})
}

func BenchmarkForwardLookup(b *testing.B) {
	f := mustParse(b, ModePasst, "22-80:32-90,~50", "127.0.0.1/8080:80", "all")
	b.ReportAllocs()
	p := uint16(0)
	for b.Loop() {
		f.Lookup(p)
		p += 7
	}
}

func BenchmarkParseForward(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseForward("127.0.0.1/2000-5000:3000-6000,~3000-3010,8080", nil, ModePasst); err != nil {
			b.Fatal(err)
		}
	}
}
