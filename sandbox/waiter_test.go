// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && (amd64 || arm64 || ppc64le || s390x || riscv64 || mips64le || loong64)

package sandbox

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestWaiterProgram runs ConfineWaiter's filter in x/net/bpf's VM: what a
// waiting launcher needs passes, files, exec, sockets, ptrace, forks and
// other architectures kill.
func TestWaiterProgram(t *testing.T) {
	prog, err := waiterProgram()
	if err != nil {
		t.Fatal(err)
	}
	vm := newVM(t, prog, "waiter")
	const allow, kill = unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_KILL_PROCESS
	args := func(a0 uint64) *[6]uint64 { return &[6]uint64{a0} }
	for _, tt := range []struct {
		name string
		nr   uintptr
		arch uint32
		args *[6]uint64
		want uint32
	}{
		{"futex", unix.SYS_FUTEX, auditArch, nil, allow},
		{"waitid", unix.SYS_WAITID, auditArch, nil, allow},
		{"wait4", unix.SYS_WAIT4, auditArch, nil, allow},
		{"pidfd_send_signal", unix.SYS_PIDFD_SEND_SIGNAL, auditArch, nil, allow},
		{"kill", unix.SYS_KILL, auditArch, nil, allow},
		{"write", unix.SYS_WRITE, auditArch, nil, allow},
		{"exit_group", unix.SYS_EXIT_GROUP, auditArch, nil, allow},
		{"clone thread", unix.SYS_CLONE, auditArch, args(goCloneFlags), allow},
		{"clone fork", unix.SYS_CLONE, auditArch, args(uint64(unix.SIGCHLD)), kill},
		{"clone newuser", unix.SYS_CLONE, auditArch, args(goCloneFlags | unix.CLONE_NEWUSER), kill},
		{"prctl PR_SET_VMA", unix.SYS_PRCTL, auditArch, args(unix.PR_SET_VMA), allow},
		{"prctl other", unix.SYS_PRCTL, auditArch, args(unix.PR_SET_DUMPABLE), kill},
		{"openat", unix.SYS_OPENAT, auditArch, nil, kill},
		{"execve", unix.SYS_EXECVE, auditArch, nil, kill},
		{"execveat", unix.SYS_EXECVEAT, auditArch, nil, kill},
		{"ptrace", unix.SYS_PTRACE, auditArch, nil, kill},
		{"socket", unix.SYS_SOCKET, auditArch, nil, kill},
		{"clone3", unix.SYS_CLONE3, auditArch, nil, kill},
		{"mprotect", unix.SYS_MPROTECT, auditArch, nil, kill},
		{"futex, other arch", unix.SYS_FUTEX, auditArch ^ 1, nil, kill},
	} {
		a := tt.args
		if a == nil {
			a = &[6]uint64{}
		}
		r, err := vm.Run(seccompData(uint32(tt.nr), tt.arch, a))
		if err != nil {
			t.Fatalf("%s: VM: %v", tt.name, err)
		}
		if uint32(r) != tt.want {
			t.Errorf("%s: %#x, want %#x", tt.name, r, tt.want)
		}
	}
	if syscallBitX32 != 0 {
		r, _ := vm.Run(seccompData(uint32(unix.SYS_FUTEX)|syscallBitX32, auditArch, &[6]uint64{}))
		if uint32(r) != kill {
			t.Errorf("x32 futex: %#x, want kill", r)
		}
	}
}
