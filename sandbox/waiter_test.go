// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/sandbox/profile"
)

// TestWaiterProgram runs the filter ConfineWaiter loads (the embedded
// waiter program of this GOARCH) in x/net/bpf's VM: what a waiting
// launcher needs passes, files, exec, sockets, ptrace, forks and other
// architectures kill. TestProgramVerdicts checks the same on every
// architecture's file.
func TestWaiterProgram(t *testing.T) {
	a, ok := profile.ArchByName(runtime.GOARCH)
	if !ok {
		t.Skipf("no profile for %s", runtime.GOARCH)
	}
	prog, err := namedProgram(modeWaiter, ActionKill)
	if err != nil {
		t.Fatal(err)
	}
	vm := newVM(t, prog, "waiter")
	const allow, kill = unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_KILL_PROCESS
	thread := goClone(0)(a)
	fork := goClone(0)(a)
	fork[0], fork[1] = uint64(unix.SIGCHLD), 0
	newUser := goClone(unix.CLONE_NEWUSER)(a)
	for _, tt := range []struct {
		name string
		arch uint32
		args [6]uint64
		want uint32
	}{
		{"futex", a.Audit, [6]uint64{0x1000, 128}, allow},
		{"waitid", a.Audit, [6]uint64{}, allow},
		{"wait4", a.Audit, [6]uint64{}, allow},
		{"pidfd_send_signal", a.Audit, [6]uint64{}, allow},
		{"kill", a.Audit, [6]uint64{}, allow},
		{"write", a.Audit, [6]uint64{}, allow},
		{"exit_group", a.Audit, [6]uint64{}, allow},
		{"clone", a.Audit, thread, allow},
		{"clone", a.Audit, fork, kill},
		{"clone", a.Audit, newUser, kill},
		{"prctl", a.Audit, [6]uint64{unix.PR_SET_VMA}, allow},
		{"prctl", a.Audit, [6]uint64{unix.PR_SET_DUMPABLE}, kill},
		{"openat", a.Audit, [6]uint64{}, kill},
		{"open", a.Audit, [6]uint64{}, kill},
		{"execve", a.Audit, [6]uint64{}, kill},
		{"execveat", a.Audit, [6]uint64{}, kill},
		{"ptrace", a.Audit, [6]uint64{}, kill},
		{"socket", a.Audit, [6]uint64{unix.AF_INET}, kill},
		{"socketcall", a.Audit, [6]uint64{1}, kill},
		{"clone3", a.Audit, [6]uint64{}, kill},
		{"mprotect", a.Audit, [6]uint64{}, kill},
		{"futex", a.Audit ^ 1, [6]uint64{0x1000, 128}, kill},
	} {
		nr, ok := sysnums[a.Name][tt.name]
		if !ok {
			continue // open on arm64, socketcall but on 386...
		}
		if got := run(t, vm, a, nr, tt.arch, &tt.args); got != tt.want {
			t.Errorf("%s(%#x) under AUDIT_ARCH %#x: %#x, want %#x", tt.name, tt.args, tt.arch, got, tt.want)
		}
	}
	if a.Name == "amd64" {
		if got := run(t, vm, a, x32SyscallBit|sysnums[a.Name]["futex"], a.Audit, &[6]uint64{0x1000, 128}); got != kill {
			t.Errorf("x32 futex: %#x, want kill", got)
		}
	}
}
