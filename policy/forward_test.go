// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
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
		{"none then rules", ModePasta, []string{"none", "22"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}}},
		{"single", ModePasst, []string{"22"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}}},
		{"remap", ModePasst, []string{"22:2022"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 2022}}},
		{"range remap", ModePasst, []string{"8000-8010:9000-9010"}, ForwardSpec,
			[]PortRule{{First: 8000, Last: 8010, ToFirst: 9000}}},
		{"list", ModePasst, []string{"22,25"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}, {First: 25, Last: 25, ToFirst: 25}}},
		{"bind v4", ModePasst, []string{"127.0.0.1/8080"}, ForwardSpec,
			[]PortRule{{Bind: a("127.0.0.1"), First: 8080, Last: 8080, ToFirst: 8080}}},
		{"bind v6 bracketed", ModePasst, []string{"[::1]/22"}, ForwardSpec,
			[]PortRule{{Bind: a("::1"), First: 22, Last: 22, ToFirst: 22}}},
		{"bind v6 bare", ModePasst, []string{"::1/22"}, ForwardSpec,
			[]PortRule{{Bind: a("::1"), First: 22, Last: 22, ToFirst: 22}}},
		{"bind v4-mapped", ModePasst, []string{"[::ffff:127.0.0.1]/22"}, ForwardSpec,
			[]PortRule{{Bind: a("127.0.0.1"), First: 22, Last: 22, ToFirst: 22}}},
		{"bind iface", ModePasst, []string{"192.0.2.1%eth0/22"}, ForwardSpec,
			[]PortRule{{Bind: a("192.0.2.1"), Iface: "eth0", First: 22, Last: 22, ToFirst: 22}}},
		{"bind v6 iface", ModePasst, []string{"fe80::1%eth0/22"}, ForwardSpec,
			[]PortRule{{Bind: a("fe80::1"), Iface: "eth0", First: 22, Last: 22, ToFirst: 22}}},
		{"iface only", ModePasst, []string{"%eth0/22"}, ForwardSpec,
			[]PortRule{{Iface: "eth0", First: 22, Last: 22, ToFirst: 22}}},
		{"wildcard", ModePasst, []string{"*/80"}, ForwardSpec,
			[]PortRule{{First: 80, Last: 80, ToFirst: 80}}},
		{"target addr", ModePasst, []string{"0.0.0.0/5000:192.0.2.5/6000"}, ForwardSpec,
			[]PortRule{{Bind: a("0.0.0.0"), First: 5000, Last: 5000, ToFirst: 6000, ToAddr: a("192.0.2.5")}}},
		{"target addr same port", ModePasst, []string{"0.0.0.0/53:192.0.2.5"}, ForwardSpec,
			[]PortRule{{Bind: a("0.0.0.0"), First: 53, Last: 53, ToFirst: 53, ToAddr: a("192.0.2.5")}}},
		{"target v6", ModePasst, []string{"[::]/22:[2001:db8::1]/23"}, ForwardSpec,
			[]PortRule{{Bind: a("::"), First: 22, Last: 22, ToFirst: 23, ToAddr: a("2001:db8::1")}}},
		{"target unspecified", ModePasst, []string{"22:0.0.0.0/23"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 23}}},
		{"all", ModePasst, []string{"all"}, ForwardAll, []PortRule{
			{First: 1, Last: 32767, ToFirst: 1, BestEffort: true},
			{First: 61000, Last: 65535, ToFirst: 61000, BestEffort: true}}},
		{"all target", ModePasta, []string{"127.0.0.6/all:192.0.2.6"}, ForwardAll, []PortRule{
			{Bind: a("127.0.0.6"), First: 1, Last: 32767, ToFirst: 1, ToAddr: a("192.0.2.6"), BestEffort: true},
			{Bind: a("127.0.0.6"), First: 61000, Last: 65535, ToFirst: 61000, ToAddr: a("192.0.2.6"), BestEffort: true}}},
		{"all with ranges", ModePasst, []string{"all,80"}, ForwardSpec,
			[]PortRule{{First: 80, Last: 80, ToFirst: 80}}},
		{"exclude only", ModePasst, []string{"~25"}, ForwardAll, []PortRule{
			{First: 1, Last: 24, ToFirst: 1, BestEffort: true},
			{First: 26, Last: 32767, ToFirst: 26, BestEffort: true},
			{First: 61000, Last: 65535, ToFirst: 61000, BestEffort: true}}},
		{"range and exclude", ModePasst, []string{"2000-5000:3000-6000,~3000-3010"}, ForwardSpec, []PortRule{
			{First: 2000, Last: 2999, ToFirst: 3000},
			{First: 3011, Last: 5000, ToFirst: 4011}}},
		{"exclude is per spec", ModePasst, []string{"~80", "80"}, ForwardAll, []PortRule{
			{First: 1, Last: 79, ToFirst: 1, BestEffort: true},
			{First: 81, Last: 32767, ToFirst: 81, BestEffort: true},
			{First: 61000, Last: 65535, ToFirst: 61000, BestEffort: true},
			{First: 80, Last: 80, ToFirst: 80}}},
		{"auto", ModePasta, []string{"auto"}, ForwardAuto, []PortRule{
			{First: 1, Last: 32767, ToFirst: 1, BestEffort: true, Auto: true},
			{First: 61000, Last: 65535, ToFirst: 61000, BestEffort: true, Auto: true}}},
		{"all and auto", ModePasta, []string{"all,auto"}, ForwardAuto, []PortRule{
			{First: 1, Last: 32767, ToFirst: 1, BestEffort: true, Auto: true},
			{First: 61000, Last: 65535, ToFirst: 61000, BestEffort: true, Auto: true}}},
		{"auto ranges", ModePasta, []string{"8000-8010,auto"}, ForwardAuto,
			[]PortRule{{First: 8000, Last: 8010, ToFirst: 8000, Auto: true}}},
		{"auto then static", ModePasta, []string{"8000-8010,auto", "9000"}, ForwardAuto, []PortRule{
			{First: 8000, Last: 8010, ToFirst: 8000, Auto: true},
			{First: 9000, Last: 9000, ToFirst: 9000}}},
		{"accumulate", ModePasst, []string{"22", "127.0.0.1/80:8080"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 22, ToFirst: 22}, {Bind: a("127.0.0.1"), First: 80, Last: 80, ToFirst: 8080}}},
		{"two families same port", ModePasst, []string{"127.0.0.1/80", "[::1]/80"}, ForwardSpec,
			[]PortRule{{Bind: a("127.0.0.1"), First: 80, Last: 80, ToFirst: 80}, {Bind: a("::1"), First: 80, Last: 80, ToFirst: 80}}},
		{"podman", ModePasta, []string{"127.0.0.1/8080-8080:80-80"}, ForwardSpec,
			[]PortRule{{Bind: a("127.0.0.1"), First: 8080, Last: 8080, ToFirst: 80}}},
		{"max port", ModePasst, []string{"65535:1"}, ForwardSpec,
			[]PortRule{{First: 65535, Last: 65535, ToFirst: 1}}},
		{"strtoul", ModePasst, []string{" 22- +25: 1022-1025"}, ForwardSpec,
			[]PortRule{{First: 22, Last: 25, ToFirst: 1022}}},
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
		opt   byte
		specs []string // all but the last must succeed
		part  string   // the error must name this
	}{
		{"empty", ModePasst, 't', []string{""}, `''`},
		{"zero port", ModePasst, 't', []string{"0"}, "from port 0"},
		{"to zero", ModePasst, 't', []string{"80:0"}, "to port 0"},
		{"too big", ModePasst, 't', []string{"65536"}, `'65536'`},
		{"negative", ModePasst, 't', []string{"-1"}, `'-1'`},
		{"reversed", ModePasst, 't', []string{"80-22"}, `'80-22'`},
		{"letters", ModePasst, 't', []string{"22,ssh"}, `'22,ssh'`},
		{"empty entry", ModePasst, 't', []string{"22,,23"}, `'22,,23'`},
		{"trailing comma", ModePasst, 't', []string{"22,"}, `'22,'`},
		{"range to single", ModePasst, 't', []string{"22-25:1022"}, `'22-25:1022'`},
		{"target size", ModePasst, 't', []string{"22-80:32-40"}, `'22-80:32-40'`},
		{"bad target addr", ModePasst, 't', []string{"22:foo/23"}, `'22:foo/23'`},
		{"bad bind", ModePasst, 't', []string{"300.1.1.1/22"}, `'300.1.1.1/22'`},
		{"ports after bind", ModePasst, 't', []string{"127.0.0.1/22/23"}, `'22/23'`},
		{"auto in passt", ModePasst, 't', []string{"auto"}, `'auto'`},
		{"none after rules", ModePasta, 't', []string{"22", "none"}, "conflict"},
		{"all then auto", ModePasta, 't', []string{"all", "auto"}, "conflict"},
		{"twice", ModePasst, 't', []string{"80", "80"}, "TCP [*]:80 => 80 versus TCP [*]:80 => 80"},
		{"overlap in spec", ModePasst, 't', []string{"22-25:1022-1025,24"}, "TCP [*]:24 => 24 versus TCP [*]:22-25 => 1022-1025"},
		{"any overlaps v4", ModePasst, 't', []string{"127.0.0.1/80", "80"}, "conflict"},
		{"udp twice", ModePasst, 'u', []string{"53", "53"}, "UDP [*]:53 => 53 versus"},
		{"dual stack v4 target", ModePasst, 't', []string{"22:192.0.2.5"}, "dual stack forward to IPv4 address 192.0.2.5"},
		{"dual stack v6 target", ModePasst, 't', []string{"22:[2001:db8::5]/23"}, "dual stack forward to IPv6 address 2001:db8::5"},
		{"family mismatch", ModePasst, 't', []string{"0.0.0.0/22:[2001:db8::5]/23"}, "from IPv4 (0.0.0.0) to IPv6 (2001:db8::5)"},
		{"mapped target", ModePasst, 't', []string{"[::1]/22:[::ffff:192.0.2.5]"}, "from IPv6 (::1) to IPv4 (192.0.2.5)"},
		{"multicast target", ModePasst, 't', []string{"0.0.0.0/80:224.0.0.1"}, "multicast target address 224.0.0.1"},
		{"exclude with target", ModePasst, 't', []string{"~22:23"}, `'~22:23'`},
		{"space", ModePasst, 't', []string{"22 23"}, `'22 23'`},
		{"zone", ModePasst, 't', []string{"[fe80::1%eth0]/22"}, "fe80"},
		{"-T address", ModePasta, 'T', []string{"127.0.0.1/22"}, "listening address not allowed for -T 127.0.0.1/22"},
		{"-U interface", ModePasta, 'U', []string{"%lo/53"}, "listening address not allowed for -U %lo/53"},
		{"-T target", ModePasta, 'T', []string{"22:127.0.0.1"}, "dual stack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewForward(tt.opt, DefaultEphemeral)
			for _, s := range tt.specs[:len(tt.specs)-1] {
				var err error
				if f, err = ParseForward(s, f, tt.mode); err != nil {
					t.Fatalf("ParseForward(%q): %v", s, err)
				}
			}
			before := append([]PortRule(nil), f.Rules...)
			last := tt.specs[len(tt.specs)-1]
			_, err := ParseForward(last, f, tt.mode)
			if err == nil {
				t.Fatalf("ParseForward(%q) succeeded", last)
			}
			if !strings.Contains(err.Error(), tt.part) {
				t.Errorf("error %q does not name %s", err, tt.part)
			}
			if d := cmp.Diff(before, f.Rules, cmpRules); d != "" {
				t.Errorf("prev changed on error:\n%s", d)
			}
		})
	}
	_, err := ParseForward("none", mustParse(t, ModePasta, "22"), ModePasta)
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
		{"exclude within its spec only", []string{"~10-20", "15"}, 15, 15, true},
		{"exclude of its spec", []string{"~10-20", "15"}, 16, 0, false},
		{"all low", []string{"all"}, 1, 1, true},
		{"all ephemeral", []string{"all"}, 40000, 0, false},
		{"all above ephemeral", []string{"all"}, 61000, 61000, true},
		{"exclude only", []string{"~25"}, 26, 26, true},
		{"exclude only excluded", []string{"~25"}, 25, 0, false},
		{"first rule wins", []string{"127.0.0.1/80:8080", "[::1]/80:9090"}, 80, 8080, true},
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
	f := mustParse(t, ModePasst, "22-80:32-90,~50", "~22-80")
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
		{"bind and target", []string{"127.0.0.1/80-81:10.0.0.2/8080-8081"}, []Listener{
			{Bind: a("127.0.0.1"), Port: 80, ToPort: 8080, ToAddr: a("10.0.0.2")},
			{Bind: a("127.0.0.1"), Port: 81, ToPort: 8081, ToAddr: a("10.0.0.2")}}},
		{"two binds same port", []string{"127.0.0.1/80", "[::1]/80:81"}, []Listener{
			{Bind: a("127.0.0.1"), Port: 80, ToPort: 80},
			{Bind: a("::1"), Port: 80, ToPort: 81}}},
		{"best effort", []string{"~1-65000"}, []Listener{
			{Port: 65001, ToPort: 65001, BestEffort: true}, {Port: 65002, ToPort: 65002, BestEffort: true},
			{Port: 65003, ToPort: 65003, BestEffort: true}, {Port: 65004, ToPort: 65004, BestEffort: true},
			{Port: 65005, ToPort: 65005, BestEffort: true}, {Port: 65006, ToPort: 65006, BestEffort: true}}},
		{"auto has none", []string{"8000-8001,auto"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, ModePasta, tt.specs...)
			got := f.Listeners()
			if len(got) > 6 {
				got = got[:6]
			}
			if d := cmp.Diff(tt.want, got, cmpRules); d != "" {
				t.Errorf("Listeners (-want +got):\n%s", d)
			}
		})
	}
	t.Run("all count", func(t *testing.T) {
		f, err := ParseForward("all,~22", NewForward('t', PortRange{32768, 60999}), ModePasst)
		if err != nil {
			t.Fatal(err)
		}
		want := 65535 - (60999 - 32768 + 1) - 1
		if got := len(f.Listeners()); got != want {
			t.Errorf("len = %d, want %d", got, want)
		}
	})
	t.Run("host ephemeral range", func(t *testing.T) {
		f, err := ParseForward("all", NewForward('u', PortRange{10000, 20000}), ModePasst)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := f.String(), "UDP [*]:1-9999 => 1-9999 (best effort); UDP [*]:20001-65535 => 20001-65535 (best effort)"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	})
}

// checkInvariants checks what ParseForward guarantees of any Forward it
// builds: no port 0 on either side, targets in range, no two rules
// competing for a port on overlapping addresses, and Lookup finding the
// first rule covering a port.
func checkInvariants(t testing.TB, f *Forward) {
	t.Helper()
	for i, r := range f.Rules {
		if r.First == 0 || r.First > r.Last || r.ToFirst == 0 || int(r.ToFirst)+int(r.Last-r.First) > 65535 {
			t.Fatalf("rule %d out of range: %+v", i, r)
		}
		for j := range i {
			o := f.Rules[j]
			if r.First <= o.Last && o.First <= r.Last && bindOverlap(r.Bind, o.Bind) {
				t.Fatalf("rules %d and %d overlap: %+v %+v", j, i, o, r)
			}
		}
	}
	for p := 0; p < 65536; p += 13 {
		var want *PortRule
		for i := range f.Rules {
			if r := &f.Rules[i]; uint16(p) >= r.First && uint16(p) <= r.Last {
				want = r
				break
			}
		}
		got, ok := f.LookupRule(uint16(p))
		if ok != (want != nil) || (ok && got != want) {
			t.Fatalf("LookupRule(%d) = %+v, %v; want %+v", p, got, ok, want)
		}
	}
}

func FuzzParseForward(f *testing.F) {
	for _, s := range []string{
		"none", "all", "auto", "22", "22:2022", "8000-8010:9000-9010", "~8080",
		"127.0.0.1/8080", "[::1]/22", "192.0.2.1%eth0/22", "*/80",
		"0.0.0.0/5000:192.0.2.5/6000", "127.0.0.6/all:192.0.2.6", "fe80::1%lo/22",
		"2000-5000,~3000-3010", "80-82,auto", "::1/auto", "[::]/22:[::1]/23", " 22- +25",
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
		checkInvariants(t, fw)
	})
}

func BenchmarkForwardLookup(b *testing.B) {
	f := mustParse(b, ModePasst, "22-80:32-90,~50", "127.0.0.1/8080:80", "~22-80,~8080")
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
