// SPDX-License-Identifier: GPL-2.0-or-later

package profile

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseRepositoryProfile(t *testing.T) {
	src, err := os.ReadFile("../../seccomp.profile")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	// The Go runtime's steady-state core (GO-SANDBOX.md §4.4) must be in
	// every mode, with exit_group and rt_sigaction.
	core := strings.Fields(`futex nanosleep sched_yield mmap munmap madvise rt_sigreturn
		rt_sigprocmask sigaltstack getpid gettid tgkill clone exit epoll_pwait read write
		sched_getaffinity pread64 exit_group rt_sigaction`)
	for _, mode := range Modes {
		have := p.Syscalls(mode)
		t.Logf("%s: %d syscalls, %d rules", mode, len(have), len(p.ModeRules(mode)))
		for _, s := range core {
			if !slices.Contains(have, s) {
				t.Errorf("%s lacks Go runtime syscall %s", mode, s)
			}
		}
	}
	if len(p.Denied) == 0 {
		t.Error("no [denied] section")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no section", "read # r\n", "before the first section"},
		{"bad section", "[foo]\n", "bad section"},
		{"no reason", "[common]\nread\n", "without a reason"},
		{"empty reason", "[common]\nread #  \n", "without a reason"},
		{"bad name", "[common]\nRead # r\n", "bad syscall name"},
		{"bad arg", "[common]\nsocket arg6 == 1 # r\n", "want arg0"},
		{"bad op", "[common]\nsocket arg0 =~ 1 # r\n", "unknown operator"},
		{"incomplete", "[common]\nsocket arg0 == # r\n", "incomplete"},
		{"bad value", "[common]\nsocket arg0 == AF_FOO # r\n", "bad value"},
		{"alternatives with <", "[common]\nsocket arg0 < 1|2 # r\n", "only with =="},
		{"two alternative lists", "[common]\nsocket arg0 == 1|2 arg1 == 3|4 # r\n", "more than one"},
		{"same arg twice", "[common]\nsocket arg0 == 1 arg0 == 2 # r\n", "two conditions"},
		{"value twice", "[common]\nsocket arg0 == 1|1 # r\n", "listed twice"},
		{"masked outside mask", "[common]\nsocket arg0 & 0xf == 0x10 # r\n", "outside mask"},
		{"masked syntax", "[common]\nsocket arg0 & 0xf 1 # r\n", "masked condition"},
		{"duplicate", "[common]\nread # r\n[passt]\nread # again\n", "duplicate rule"},
		{"mixed", "[common]\nsocket # r\n[pasta]\nsocket arg0 == 1 # r\n", "both unconditional and conditional"},
		{"denied allowed", "[common]\nexecve # r\n[denied]\nexecve # no\n", "listed in [denied]"},
		{"denied twice", "[denied]\nexecve # no\nexecve # no\n", "denied twice"},
		{"denied with cond", "[denied]\nsocket arg0 == 1 # no\n", "conditions in [denied]"},
		{"long line", "[common]\nread # " + strings.Repeat("x", maxLineLen) + "\n", "too long"},
		{"unknown arch", "[common]\nread arch == vax # r\n", "unknown architecture"},
		{"arch op", "[common]\nread arch < arm # r\n", "arch qualifier must read"},
		{"arch incomplete", "[common]\nread arch == # r\n", "arch qualifier must read"},
		{"arch twice", "[common]\nread arch == arm arch == 386 # r\n", "two arch qualifiers"},
		{"arch listed twice", "[common]\nread arch == arm|arm # r\n", "listed twice"},
		{"arch excludes all", "[common]\nread arch != " + strings.Join(archNames(), "|") + " # r\n", "excludes every"},
		{"mixed on one arch", "[common]\nclone # r\nclone arg0 == 1 arch == arm # r\n", "both unconditional and conditional in mode passt on arm"},
		{"denied allowed on its arch", "[common]\nmmap2 arch == arm # r\n[denied]\nmmap2 arch == arm|386 # no\n", "listed in [denied]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	src := `
# comment
[common]
read                      # r1
socket arg0 == AF_INET|AF_INET6 arg1 != 3 # r2
[pasta]
ioctl arg1 & 0xff00 == 0x5400 # r3
splice # r4
`
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	passt := p.ModeRules("passt")
	pasta := p.ModeRules("pasta")
	if len(passt) != 3 || len(pasta) != 5 {
		t.Fatalf("passt %d rules, pasta %d rules; want 3 and 5", len(passt), len(pasta))
	}
	tests := []struct {
		name    string
		rules   []Rule
		syscall string
		args    [6]uint64
		want    bool
	}{
		{"read", passt, "read", [6]uint64{9, 9, 9}, true},
		{"socket inet", passt, "socket", [6]uint64{2, 1}, true},
		{"socket inet6", passt, "socket", [6]uint64{10, 2}, true},
		{"socket inet raw", passt, "socket", [6]uint64{2, 3}, false},
		{"socket unix", passt, "socket", [6]uint64{1, 1}, false},
		{"socket high word", passt, "socket", [6]uint64{1<<32 | 2, 1}, false},
		{"ioctl in passt", passt, "ioctl", [6]uint64{0, 0x5411}, false},
		{"ioctl masked hit", pasta, "ioctl", [6]uint64{0, 0x5411}, true},
		{"ioctl masked miss", pasta, "ioctl", [6]uint64{0, 0x8911}, false},
		{"splice in pasta", pasta, "splice", [6]uint64{}, true},
		{"splice in passt", passt, "splice", [6]uint64{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allows(tt.rules, tt.syscall, &tt.args); got != tt.want {
				t.Errorf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
	if got, want := p.Syscalls("pasta"), []string{"ioctl", "read", "socket", "splice"}; !slices.Equal(got, want) {
		t.Errorf("Syscalls(pasta) = %v, want %v", got, want)
	}
}

// TestModeIncludes checks which sections each mode's filter is built
// from: [runtime] everywhere, [common] in the daemons' modes only.
func TestModeIncludes(t *testing.T) {
	src := `
[runtime]
futex # r1
[common]
socket arg0 == AF_INET # r2
[passt]
unlinkat # r3
[pasta]
splice # r4
[waiter]
waitid # r5
[denied]
openat # r6
`
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode string
		want []string
	}{
		{"passt", []string{"futex", "socket", "unlinkat"}},
		{"pasta", []string{"futex", "socket", "splice"}},
		{ModeWaiter, []string{"futex", "waitid"}},
	} {
		if got := p.Syscalls(tt.mode); !slices.Equal(got, tt.want) {
			t.Errorf("Syscalls(%s) = %v, want %v", tt.mode, got, tt.want)
		}
	}
	for _, tt := range []struct{ name, src, want string }{
		{"runtime and common", "[runtime]\nread # r\n[common]\nread # again\n", "duplicate rule"},
		{"runtime and waiter", "[runtime]\nread # r\n[waiter]\nread # again\n", "duplicate rule \"read\" in mode waiter"},
		{"denied in waiter", "[waiter]\nexecve # r\n[denied]\nexecve # no\n", "listed in [denied]"},
	} {
		if _, err := Parse([]byte(tt.src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse error = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	// The same rule in [common] and [waiter] is no duplicate: no mode
	// includes both.
	if _, err := Parse([]byte("[common]\nkill # r\n[waiter]\nkill # r\n")); err != nil {
		t.Errorf("kill in [common] and [waiter]: %v", err)
	}
}

func TestCondString(t *testing.T) {
	tests := []struct {
		c    Cond
		want string
	}{
		{Cond{Arg: 0, Op: OpEq, Value: 2}, "arg0 == 0x2"},
		{Cond{Arg: 1, Op: OpGe, Value: 16}, "arg1 >= 0x10"},
		{Cond{Arg: 2, Op: OpMaskedEq, Mask: 0xff, Value: 1}, "arg2 & 0xff == 0x1"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String = %q, want %q", got, tt.want)
		}
	}
}

// FuzzParse checks that Parse never panics and that what it accepts is
// consistent: named, reasoned rules with valid argument indexes.
func FuzzParse(f *testing.F) {
	if src, err := os.ReadFile("../../seccomp.profile"); err == nil {
		f.Add(src)
	}
	f.Add([]byte("[common]\nsocket arg0 == AF_INET|AF_INET6 # r\n"))
	f.Add([]byte("[pasta]\nioctl arg1 & 0xff00 == 0x5400 arg0 >= 3 # r\n[denied]\nexecve # no\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		for _, r := range append(slices.Clone(p.Rules), p.Denied...) {
			if !validName(r.Syscall) || r.Reason == "" || r.Line <= 0 {
				t.Fatalf("accepted bad rule %+v", r)
			}
			for _, c := range r.Conds {
				if c.Arg > MaxArg || c.Op > OpMaskedEq {
					t.Fatalf("accepted bad condition %+v", c)
				}
				_ = c.String()
			}
		}
		for _, m := range Modes {
			var args [6]uint64
			for _, r := range p.ModeRules(m) {
				Allows(p.ModeRules(m), r.Syscall, &args)
			}
			for _, a := range Arches {
				rules := p.ArchRules(m, a.Name)
				for _, r := range rules {
					if !r.AppliesTo(a.Name) {
						t.Fatalf("ArchRules(%s, %s) returned a rule for %v", m, a.Name, r.Arches)
					}
					Allows(rules, r.Syscall, &args)
				}
			}
		}
		for _, a := range Arches {
			p.ArchDenied(a.Name)
		}
	})
}

func TestArchRules(t *testing.T) {
	src := `
[common]
clone arg0 == 0xd0f00 arch == amd64 # r
clone arg0 == 0x50f00 arch != amd64|s390x # r
clone arg1 == 0x50f00 arch == s390x # r
ioctl arg1 == SIOCOUTQ|FIONBIO # r
mmap2 arch == arm|386 # r
[denied]
mmap2 arch != arm|386 # not on 64-bit
`
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, arch, syscall string
		args                [6]uint64
		want                bool
	}{
		{"amd64 clone with SETTLS", "amd64", "clone", [6]uint64{0xd0f00}, true},
		{"amd64 clone without SETTLS", "amd64", "clone", [6]uint64{0x50f00}, false},
		{"arm64 clone", "arm64", "clone", [6]uint64{0x50f00}, true},
		{"arm64 clone with SETTLS", "arm64", "clone", [6]uint64{0xd0f00}, false},
		{"s390x clone flags first", "s390x", "clone", [6]uint64{0x50f00}, false},
		{"s390x clone flags second", "s390x", "clone", [6]uint64{0x7000, 0x50f00}, true},
		{"amd64 SIOCOUTQ", "amd64", "ioctl", [6]uint64{3, 0x5411}, true},
		{"ppc64le generic SIOCOUTQ", "ppc64le", "ioctl", [6]uint64{3, 0x5411}, false},
		{"ppc64le SIOCOUTQ", "ppc64le", "ioctl", [6]uint64{3, 0x40047473}, true},
		{"mips64le FIONBIO", "mips64le", "ioctl", [6]uint64{3, 0x667e}, true},
		{"arm mmap2", "arm", "mmap2", [6]uint64{}, true},
		{"amd64 mmap2", "amd64", "mmap2", [6]uint64{}, false},
		{"arm compares 32 bits", "arm", "clone", [6]uint64{1<<32 | 0x50f00}, true},
		{"arm64 compares 64 bits", "arm64", "clone", [6]uint64{1<<32 | 0x50f00}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allows(p.ArchRules("passt", tt.arch), tt.syscall, &tt.args); got != tt.want {
				t.Errorf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
	if d := p.ArchDenied("arm64"); len(d) != 1 || d[0].Syscall != "mmap2" {
		t.Errorf("ArchDenied(arm64) = %v", d)
	}
	if d := p.ArchDenied("386"); len(d) != 0 {
		t.Errorf("ArchDenied(386) = %v", d)
	}
}
