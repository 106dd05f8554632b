// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"gopasst/sandbox/profile"
)

// Tests in the style of runc's patchbpf: run the programs of every
// architecture in golang.org/x/net/bpf's VM over hand-built seccomp_data
// and compare every verdict with the profile's pure-Go evaluator for that
// architecture (its AUDIT_ARCH, syscall numbers, constants and argument
// width). The programs are read from filters/, so every architecture is
// checked on any build host; TestEmbeddedProgram ties the embedded one to
// its file.

const (
	x32SyscallBit = 0x40000000
	retAllow      = unix.SECCOMP_RET_ALLOW
	retKill       = unix.SECCOMP_RET_KILL_PROCESS
)

// modes are the profile's modes (profile.Modes) with the size of their
// filters: the least and most syscalls one allows on an architecture.
var modes = []struct {
	name     string
	min, max int
}{
	{"passt", 40, 80},
	{"pasta", 40, 80},
	{modeWaiter, 25, 45},
}

func byteOrder(a profile.Arch) binary.ByteOrder {
	if a.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
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

// archProgram reads and decodes the program of a mode for an architecture,
// with action patched in as Program does.
func archProgram(t *testing.T, a profile.Arch, mode string, action Action) []unix.SockFilter {
	t.Helper()
	blob, err := os.ReadFile("filters/seccomp_" + mode + "_" + a.Name + ".bpf")
	if err != nil {
		t.Fatalf("%v; run go generate ./sandbox", err)
	}
	ret, err := action.ret()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := decodeProgramOrder(blob, ret, byteOrder(a))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// newVM loads a seccomp program into x/net/bpf's VM; name is for errors.
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

func run(t *testing.T, vm *bpf.VM, a profile.Arch, nr, auditArch uint32, args *[6]uint64) uint32 {
	t.Helper()
	r, err := vm.Run(a.VMData(nr, auditArch, args))
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return uint32(r)
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
func jumpConstants(prog []unix.SockFilter) []uint64 {
	var ks []uint64
	for _, in := range prog {
		if in.Code&0x07 == unix.BPF_JMP && in.Code&0xf0 != unix.BPF_JA {
			ks = append(ks, uint64(in.K))
		}
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// TestProgramMatchesProfile runs every syscall the profile names on every
// architecture through that architecture's programs and the evaluator.
func TestProgramMatchesProfile(t *testing.T) {
	p := loadProfile(t)
	for _, a := range profile.Arches {
		nums := sysnums[a.Name]
		for _, m := range modes {
			t.Run(a.Name+"/"+m.name, func(t *testing.T) {
				prog := archProgram(t, a, m.name, ActionKill)
				vm := newVM(t, prog, a.Name+"/"+m.name)
				rules := p.ArchRules(m.name, a.Name)
				progK := jumpConstants(prog)
				checked := 0
				for _, name := range p.AllNames() {
					nr, ok := nums[name]
					if !ok {
						if slices.ContainsFunc(rules, func(r profile.Rule) bool { return r.Syscall == name }) {
							t.Fatalf("%s allowed but has no number on %s", name, a.Name)
						}
						continue
					}
					for _, args := range argVectors(rules, name, progK) {
						want := uint32(retKill)
						if profile.Allows(rules, name, args) {
							want = retAllow
						}
						if got := run(t, vm, a, nr, a.Audit, args); got != want {
							t.Errorf("%s(%#x): filter says %#x, profile says %#x", name, *args, got, want)
						}
						checked++
					}
				}
				// Numbers no rule names, and each allowed number under
				// every other architecture's AUDIT_ARCH, are killed.
				for _, nr := range []uint32{0xffff, 1000, 5999, x32SyscallBit} {
					if !slices.Contains(mapValues(nums), nr) {
						if got := run(t, vm, a, nr, a.Audit, &[6]uint64{}); got != retKill {
							t.Errorf("unknown syscall %d: filter says %#x", nr, got)
						}
					}
				}
				for _, other := range profile.Arches {
					if other.Audit == a.Audit {
						continue
					}
					for _, r := range rules {
						if got := run(t, vm, a, nums[r.Syscall], other.Audit, &[6]uint64{}); got != retKill {
							t.Errorf("%s under AUDIT_ARCH %#x (%s): filter says %#x", r.Syscall, other.Audit, other.Name, got)
						}
					}
				}
				if len(rules) < m.min || checked < len(rules) {
					t.Errorf("only %d rules, %d checks", len(rules), checked)
				}
			})
		}
	}
}

func mapValues(m map[string]uint32) []uint32 {
	var vs []uint32
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

// verdict is one syscall with arguments and the filter's expected answer,
// written by name so that it runs on every architecture that has it.
type verdict struct {
	desc, name string
	args       func(a profile.Arch) [6]uint64
	allow      bool
}

func args(v ...uint64) func(profile.Arch) [6]uint64 {
	return func(profile.Arch) [6]uint64 {
		var a [6]uint64
		copy(a[:], v)
		return a
	}
}

// goClone is what the Go runtime passes to clone on a: its flags, plus
// CLONE_SETTLS on amd64, as the second argument on s390x.
func goClone(extra uint64) func(profile.Arch) [6]uint64 {
	return func(a profile.Arch) [6]uint64 {
		flags := uint64(0x50f00) | extra
		if a.Name == "amd64" {
			flags |= unix.CLONE_SETTLS
		}
		if a.Name == "s390x" {
			return [6]uint64{0x7f0000, flags}
		}
		return [6]uint64{flags}
	}
}

// ioctlReq is an ioctl request on a: the ioctls of ppc64le and mips64le
// differ from asm-generic.
func ioctlReq(generic, ppc, mips uint64) func(profile.Arch) [6]uint64 {
	return func(a profile.Arch) [6]uint64 {
		switch a.Name {
		case "ppc64le":
			return [6]uint64{5, ppc}
		case "mips64le":
			return [6]uint64{5, mips}
		}
		return [6]uint64{5, generic}
	}
}

// TestProgramVerdicts checks hand-picked calls on every architecture and
// with every action, independently of the evaluator.
func TestProgramVerdicts(t *testing.T) {
	// [runtime] and [denied]: the same verdict in every mode.
	runtimeVerdicts := []verdict{
		{"read", "read", args(), true},
		{"write", "write", args(), true},
		{"futex(FUTEX_WAKE_PRIVATE)", "futex", args(0x1000, 129), true},
		{"futex(FUTEX_LOCK_PI)", "futex", args(0x1000, 6), false},
		{"epoll_pwait", "epoll_pwait", args(), true},
		{"exit_group", "exit_group", args(), true},
		{"clone of a Go thread", "clone", goClone(0), true},
		{"clone as glibc pthread_create", "clone", goClone(unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID), false},
		{"clone as fork", "clone", args(uint64(unix.SIGCHLD)), false},
		{"clone with a new netns", "clone", goClone(unix.CLONE_NEWNET), false},
		{"clone with a new user ns", "clone", goClone(unix.CLONE_NEWUSER), false},
		{"prctl(PR_SET_VMA)", "prctl", args(unix.PR_SET_VMA), true},
		{"prctl(PR_SET_DUMPABLE)", "prctl", args(unix.PR_SET_DUMPABLE, 1), false},
		{"mmap2", "mmap2", args(), true},
		{"futex_time64(FUTEX_WAIT_PRIVATE)", "futex_time64", args(0x1000, 128), true},
		{"set_thread_area", "set_thread_area", args(), true},
		{"openat", "openat", args(), false},
		{"open", "open", args(), false},
		{"execve", "execve", args(), false},
		{"execveat", "execveat", args(), false},
		{"ptrace", "ptrace", args(), false},
		{"mount", "mount", args(), false},
		{"setns", "setns", args(), false},
		{"clone3", "clone3", args(), false},
		{"mprotect", "mprotect", args(), false},
	}
	// [common]: the daemons' data path.
	common := []verdict{
		{"socket(AF_INET)", "socket", args(unix.AF_INET, unix.SOCK_DGRAM), true},
		{"socket(AF_INET6)", "socket", args(unix.AF_INET6, unix.SOCK_STREAM), true},
		{"socket(AF_PACKET)", "socket", args(unix.AF_PACKET, unix.SOCK_RAW), false},
		{"ioctl(SIOCOUTQ)", "ioctl", ioctlReq(0x5411, 0x40047473, 0x7472), true},
		{"ioctl(FIONBIO)", "ioctl", ioctlReq(0x5421, 0x8004667e, 0x667e), true},
		{"ioctl(asm-generic SIOCOUTQ) on ppc64le", "ioctl", ioctlReq(0x5411, 0x5411, 0x5411), true},
		{"ioctl(TUNSETIFF)", "ioctl", args(5, 0x400454ca), false},
		{"fcntl(F_SETFL)", "fcntl", args(5, unix.F_SETFL), true},
		{"fcntl(F_DUPFD)", "fcntl", args(5, unix.F_DUPFD), false},
		{"fcntl64(F_SETFL)", "fcntl64", args(5, unix.F_SETFL), true},
		{"fcntl64(F_DUPFD)", "fcntl64", args(5, unix.F_DUPFD), false},
		{"socketcall(SYS_SOCKET)", "socketcall", args(1), true},
		{"socketcall(SYS_SOCKETPAIR)", "socketcall", args(8), false},
	}
	common = append(runtimeVerdicts[:len(runtimeVerdicts):len(runtimeVerdicts)], common...)
	byMode := map[string][]verdict{
		"passt": append(common[:len(common):len(common)],
			verdict{"socket(AF_UNIX)", "socket", args(unix.AF_UNIX, unix.SOCK_STREAM), true},
			verdict{"splice", "splice", args(), false},
			verdict{"socket(AF_NETLINK)", "socket", args(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE), false},
		),
		"pasta": append(common[:len(common):len(common)],
			verdict{"socket(AF_UNIX)", "socket", args(unix.AF_UNIX, unix.SOCK_STREAM), false},
			verdict{"splice", "splice", args(), true},
			verdict{"waitid", "waitid", args(), true},
			verdict{"socket(AF_NETLINK, NETLINK_ROUTE)", "socket", args(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE), true},
			verdict{"socket(AF_NETLINK, NETLINK_AUDIT)", "socket", args(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT), false},
		),
		// The launchers: wait and signal, nothing of the data path.
		modeWaiter: append(runtimeVerdicts[:len(runtimeVerdicts):len(runtimeVerdicts)],
			verdict{"waitid", "waitid", args(unix.P_PIDFD, 3), true},
			verdict{"wait4", "wait4", args(), true},
			verdict{"kill", "kill", args(1234, uint64(unix.SIGTERM)), true},
			verdict{"pidfd_send_signal", "pidfd_send_signal", args(3, uint64(unix.SIGTERM)), true},
			verdict{"close", "close", args(3), true},
			verdict{"socket(AF_INET)", "socket", args(unix.AF_INET, unix.SOCK_STREAM), false},
			verdict{"socket(AF_UNIX)", "socket", args(unix.AF_UNIX, unix.SOCK_STREAM), false},
			verdict{"socketcall(SYS_SOCKET)", "socketcall", args(1), false},
			verdict{"connect", "connect", args(), false},
			verdict{"ioctl(FIONBIO)", "ioctl", ioctlReq(0x5421, 0x8004667e, 0x667e), false},
			verdict{"fcntl(F_SETFL)", "fcntl", args(5, unix.F_SETFL), false},
			verdict{"readv", "readv", args(), false},
			verdict{"splice", "splice", args(), false},
			verdict{"unlinkat", "unlinkat", args(), false},
			verdict{"pread64", "pread64", args(), true},
		),
	}
	// Calls that exist on an architecture but are not the way Go makes
	// them there: refused.
	onlyOn := map[string][]string{
		"mmap2":           {"arm", "386"},
		"fcntl64":         {"arm", "386"},
		"futex_time64":    {"arm", "386"},
		"set_thread_area": {"386"},
		"socketcall":      {"386"},
	}
	for _, a := range profile.Arches {
		for _, m := range modes {
			for action := range Action(len(actions)) { // kill, and trap and log with seccompdebug
				deny, _ := action.ret()
				vm := newVM(t, archProgram(t, a, m.name, action), a.Name+"/"+m.name)
				for _, c := range byMode[m.name] {
					nr, ok := sysnums[a.Name][c.name]
					if !ok {
						continue
					}
					t.Run(a.Name+"/"+m.name+"/"+action.String()+"/"+c.desc, func(t *testing.T) {
						want := deny
						if c.allow && (onlyOn[c.name] == nil || slices.Contains(onlyOn[c.name], a.Name)) {
							want = retAllow
						}
						if c.desc == "ioctl(asm-generic SIOCOUTQ) on ppc64le" && (a.Name == "ppc64le" || a.Name == "mips64le") {
							want = deny
						}
						args := c.args(a)
						if got := run(t, vm, a, nr, a.Audit, &args); got != want {
							t.Errorf("got %#x, want %#x", got, want)
						}
					})
				}
				if a.Name == "amd64" {
					// The x32 ABI shares AUDIT_ARCH_X86_64: its numbers have bit 30.
					if got := run(t, vm, a, x32SyscallBit|unix.SYS_READ, a.Audit, &[6]uint64{}); got != deny {
						t.Errorf("amd64/%s/%v: x32 read: got %#x, want %#x", m.name, action, got, deny)
					}
				}
			}
		}
	}
}

// TestDeniedRefused checks that every [denied] syscall an architecture has
// is refused there, with any arguments.
func TestDeniedRefused(t *testing.T) {
	p := loadProfile(t)
	for _, a := range profile.Arches {
		for _, m := range modes {
			vm := newVM(t, archProgram(t, a, m.name, ActionKill), a.Name+"/"+m.name)
			for _, r := range p.ArchDenied(a.Name) {
				nr, ok := sysnums[a.Name][r.Syscall]
				if !ok {
					continue
				}
				for _, args := range []*[6]uint64{{}, {1, 2, 3, 4, 5, 6}} {
					if got := run(t, vm, a, nr, a.Audit, args); got != retKill {
						t.Errorf("%s/%s: denied %s(%v) gets %#x", a.Name, m.name, r.Syscall, *args, got)
					}
				}
			}
		}
	}
}

// TestEmbeddedProgram checks that the binary embeds its GOARCH's programs.
func TestEmbeddedProgram(t *testing.T) {
	a, ok := profile.ArchByName(runtime.GOARCH)
	if !ok {
		t.Skipf("no profile for %s", runtime.GOARCH)
	}
	for _, m := range modes {
		got, err := namedProgram(m.name, ActionKill)
		if err != nil {
			t.Fatal(err)
		}
		want := archProgram(t, a, m.name, ActionKill)
		if !slices.Equal(got, want) {
			t.Errorf("%s: embedded program differs from filters/", m.name)
		}
		vm := newVM(t, got, m.name)
		if r, err := vm.Run(seccompData(sysnums[a.Name]["read"], a.Audit, &[6]uint64{})); err != nil || uint32(r) != retAllow {
			t.Errorf("%s: embedded program on read: %#x, %v", m.name, r, err)
		}
	}
}

// seccompData is profile.Arch.VMData for the architecture the test runs on.
func seccompData(nr, auditArch uint32, args *[6]uint64) []byte {
	a, _ := profile.ArchByName(runtime.GOARCH)
	return a.VMData(nr, auditArch, args)
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
		{"one ret kill", binary.NativeEndian.AppendUint32(append(binary.NativeEndian.AppendUint16(nil, unix.BPF_RET|unix.BPF_K), 0, 0), retKill), true},
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

// TestProgramByteOrder checks that every program starts by loading
// seccomp_data.arch in its architecture's byte order: a program written in
// the wrong order would make the kernel reject it (or worse).
func TestProgramByteOrder(t *testing.T) {
	for _, a := range profile.Arches {
		for _, m := range modes {
			blob, err := os.ReadFile("filters/seccomp_" + m.name + "_" + a.Name + ".bpf")
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 8)
			byteOrder(a).PutUint16(want, unix.BPF_LD|unix.BPF_W|unix.BPF_ABS)
			byteOrder(a).PutUint32(want[4:], 4)
			if !bytes.Equal(blob[:8], want) {
				t.Errorf("%s/%s: first instruction % x, want % x (ld [4])", a.Name, m.name, blob[:8], want)
			}
		}
	}
}

func TestProgramSizes(t *testing.T) {
	p := loadProfile(t)
	for _, a := range profile.Arches {
		for _, m := range modes {
			prog := archProgram(t, a, m.name, ActionKill)
			var n int
			for _, name := range p.Syscalls(m.name) {
				if slices.ContainsFunc(p.ArchRules(m.name, a.Name), func(r profile.Rule) bool { return r.Syscall == name }) {
					n++
				}
			}
			t.Logf("%s/%s: %d syscalls, %d BPF instructions", a.Name, m.name, n, len(prog))
			if n < m.min || n > m.max {
				t.Errorf("%s/%s allows %d syscalls: the profile lost or gained much more than expected", a.Name, m.name, n)
			}
		}
	}
}
