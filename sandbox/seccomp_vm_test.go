// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && amd64

package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"gopasst/policy"
	"gopasst/sandbox/profile"
)

// Tests in the style of runc's patchbpf: run the embedded programs in
// golang.org/x/net/bpf's VM over hand-built seccomp_data and compare every
// verdict with the profile's pure-Go evaluator.

const (
	auditArchX8664 = unix.AUDIT_ARCH_X86_64
	auditArchI386  = unix.AUDIT_ARCH_I386
	x32SyscallBit  = 0x40000000
	retAllow       = unix.SECCOMP_RET_ALLOW
)

var modes = []struct {
	name string
	mode policy.Mode
}{
	{"passt", policy.ModePasst},
	{"pasta", policy.ModePasta},
}

// seccompData encodes struct seccomp_data for x/net/bpf's VM. The kernel
// loads 32-bit words in native (little-endian) order; the VM loads them
// big-endian. So each 32-bit word goes to the offset where the kernel
// finds it, encoded big-endian: 64-bit arguments as low word then high
// word, as on a little-endian machine.
func seccompData(nr, arch uint32, args *[6]uint64) []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(b[0:], nr)
	be.PutUint32(b[4:], arch)
	// instruction_pointer (8..15) stays zero
	for i, a := range args {
		be.PutUint32(b[16+8*i:], uint32(a))
		be.PutUint32(b[20+8*i:], uint32(a>>32))
	}
	return b
}

func loadVM(t *testing.T, mode policy.Mode, action Action) *bpf.VM {
	t.Helper()
	prog, err := Program(mode, action)
	if err != nil {
		t.Fatal(err)
	}
	return newVM(t, prog, fmt.Sprint(mode))
}

// newVM loads a seccomp program into x/net/bpf's VM.
func newVM(t *testing.T, prog []unix.SockFilter, name string) *bpf.VM {
	t.Helper()
	insns := make([]bpf.Instruction, len(prog))
	for i, in := range prog {
		insns[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("x/net/bpf refuses the %s program: %v", name, err)
	}
	return vm
}

func run(t *testing.T, vm *bpf.VM, nr, arch uint32, args *[6]uint64) uint32 {
	t.Helper()
	r, err := vm.Run(seccompData(nr, arch, args))
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return uint32(r)
}

func loadProfile(t *testing.T) *profile.Profile {
	t.Helper()
	src, err := os.ReadFile("../seccomp.profile")
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// argVectors returns argument vectors that exercise a syscall's rules: all
// zeros, all ones, each rule's satisfying values, near misses of each
// (value ± 1, high word set), and every constant the program compares
// against (progK) in each constrained argument, so that a value the program
// allows but the profile does not is found too.
func argVectors(rules []profile.Rule, name string, progK []uint64) []*[6]uint64 {
	vs := []*[6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	for _, r := range rules {
		if r.Syscall != name || len(r.Conds) == 0 {
			continue
		}
		var hit [6]uint64
		for _, c := range r.Conds {
			hit[c.Arg] = c.Value
		}
		vs = append(vs, &hit)
		for _, c := range r.Conds {
			cands := []uint64{c.Value + 1, c.Value - 1, c.Value | 1<<32, c.Value | 1<<63}
			for _, v := range append(cands, progK...) {
				miss := hit
				miss[c.Arg] = v
				vs = append(vs, &miss)
			}
		}
	}
	return vs
}

// jumpConstants returns the constants of a program's conditional jumps.
func jumpConstants(t *testing.T, mode policy.Mode) []uint64 {
	prog, err := Program(mode, ActionKill)
	if err != nil {
		t.Fatal(err)
	}
	var ks []uint64
	for _, in := range prog {
		if in.Code&0x07 == unix.BPF_JMP && in.Code&0xf0 != unix.BPF_JA {
			ks = append(ks, uint64(in.K))
		}
	}
	return ks
}

func TestProgramMatchesProfile(t *testing.T) {
	p := loadProfile(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			vm := loadVM(t, m.mode, ActionKill)
			rules := p.ModeRules(m.name)
			progK := jumpConstants(t, m.mode)
			for _, name := range p.AllNames() {
				nr, ok := sysnumAMD64[name]
				if !ok {
					t.Fatalf("%s: no syscall number; run go generate ./sandbox", name)
				}
				for _, args := range argVectors(rules, name, progK) {
					want := uint32(unix.SECCOMP_RET_KILL_PROCESS)
					if profile.Allows(rules, name, args) {
						want = retAllow
					}
					if got := run(t, vm, nr, auditArchX8664, args); got != want {
						t.Errorf("%s(%#x): filter says %#x, profile says %#x", name, *args, got, want)
					}
				}
			}
		})
	}
}

func TestProgramVerdicts(t *testing.T) {
	type call struct {
		name  string
		nr    uint32
		arch  uint32
		args  [6]uint64
		allow bool
	}
	common := []call{
		{"read", unix.SYS_READ, auditArchX8664, [6]uint64{}, true},
		{"epoll_pwait", unix.SYS_EPOLL_PWAIT, auditArchX8664, [6]uint64{}, true},
		{"clone of a Go thread", unix.SYS_CLONE, auditArchX8664, [6]uint64{0xd0f00}, true},
		{"clone as glibc pthread_create", unix.SYS_CLONE, auditArchX8664, [6]uint64{0x3d0f00}, false},
		{"clone as fork", unix.SYS_CLONE, auditArchX8664, [6]uint64{uint64(unix.SIGCHLD)}, false},
		{"clone with a new netns", unix.SYS_CLONE, auditArchX8664, [6]uint64{0xd0f00 | unix.CLONE_NEWNET}, false},
		{"socket(AF_INET)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_INET, unix.SOCK_DGRAM}, true},
		{"socket(AF_INET6)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_INET6, unix.SOCK_STREAM}, true},
		{"socket(AF_PACKET)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, false},
		{"ioctl(SIOCOUTQ)", unix.SYS_IOCTL, auditArchX8664, [6]uint64{5, unix.SIOCOUTQ}, true},
		{"ioctl(TUNSETIFF)", unix.SYS_IOCTL, auditArchX8664, [6]uint64{5, unix.TUNSETIFF}, false},
		{"prctl(PR_SET_VMA)", unix.SYS_PRCTL, auditArchX8664, [6]uint64{unix.PR_SET_VMA}, true},
		{"prctl(PR_SET_DUMPABLE)", unix.SYS_PRCTL, auditArchX8664, [6]uint64{unix.PR_SET_DUMPABLE, 1}, false},
		{"fcntl(F_DUPFD)", unix.SYS_FCNTL, auditArchX8664, [6]uint64{5, unix.F_DUPFD}, false},
		{"openat", unix.SYS_OPENAT, auditArchX8664, [6]uint64{}, false},
		{"execve", unix.SYS_EXECVE, auditArchX8664, [6]uint64{}, false},
		{"ptrace", unix.SYS_PTRACE, auditArchX8664, [6]uint64{}, false},
		{"mount", unix.SYS_MOUNT, auditArchX8664, [6]uint64{}, false},
		{"setns", unix.SYS_SETNS, auditArchX8664, [6]uint64{}, false},
		{"unknown number", 1000, auditArchX8664, [6]uint64{}, false},
		{"i386 read", 3, auditArchI386, [6]uint64{}, false},
		{"x32 read", x32SyscallBit | unix.SYS_READ, auditArchX8664, [6]uint64{}, false},
	}
	byMode := map[string][]call{
		"passt": append(common[:len(common):len(common)],
			call{"socket(AF_UNIX)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, true},
			call{"splice", unix.SYS_SPLICE, auditArchX8664, [6]uint64{}, false},
			call{"socket(AF_NETLINK)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}, false},
		),
		"pasta": append(common[:len(common):len(common)],
			call{"socket(AF_UNIX)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, false},
			call{"splice", unix.SYS_SPLICE, auditArchX8664, [6]uint64{}, true},
			call{"waitid", unix.SYS_WAITID, auditArchX8664, [6]uint64{}, true},
			call{"socket(AF_NETLINK, NETLINK_ROUTE)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}, true},
			call{"socket(AF_NETLINK, NETLINK_AUDIT)", unix.SYS_SOCKET, auditArchX8664, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT}, false},
		),
	}
	for _, m := range modes {
		for _, a := range []Action{ActionKill, ActionTrap, ActionLog} {
			deny, _ := a.ret()
			vm := loadVM(t, m.mode, a)
			for _, c := range byMode[m.name] {
				t.Run(m.name+"/"+a.String()+"/"+c.name, func(t *testing.T) {
					want := deny
					if c.allow {
						want = retAllow
					}
					if got := run(t, vm, c.nr, c.arch, &c.args); got != want {
						t.Errorf("got %#x, want %#x", got, want)
					}
				})
			}
		}
	}
}

func TestDecodeProgram(t *testing.T) {
	tests := []struct {
		name string
		blob []byte
		ok   bool
	}{
		{"empty", nil, false},
		{"not a multiple of 8", make([]byte, 12), false},
		{"too long", make([]byte, 8*(unix.BPF_MAXINSNS+1)), false},
		{"one ret kill", []byte{0x06, 0, 0, 0, 0, 0, 0, 0x80}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := decodeProgram(tt.blob, unix.SECCOMP_RET_LOG)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && prog[0].K != unix.SECCOMP_RET_LOG {
				t.Errorf("kill not patched: %#x", prog[0].K)
			}
		})
	}
}

func TestProgramSizes(t *testing.T) {
	p := loadProfile(t)
	for _, m := range modes {
		prog, err := Program(m.mode, ActionKill)
		if err != nil {
			t.Fatal(err)
		}
		n := len(p.Syscalls(m.name))
		t.Logf("%s: %d syscalls, %d BPF instructions", m.name, n, len(prog))
		if n < 40 || n > 80 {
			t.Errorf("%s allows %d syscalls: the profile lost or gained much more than expected", m.name, n)
		}
	}
}

func TestParseAction(t *testing.T) {
	for _, a := range []Action{ActionKill, ActionTrap, ActionLog} {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v", a.String(), got, err)
		}
	}
	if _, err := ParseAction("allow"); err == nil {
		t.Error("ParseAction(allow) succeeded")
	}
	if _, err := Program(policy.ModePasst, Action(7)); err == nil {
		t.Error("Program with a bad action succeeded")
	}
}
