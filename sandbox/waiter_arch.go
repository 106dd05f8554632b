// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && (amd64 || arm64 || ppc64le || s390x || riscv64 || mips64le || loong64)

package sandbox

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// auditArch is the AUDIT_ARCH_* value of this architecture in struct
// seccomp_data; syscallBitX32 the x32 ABI's syscall bit on amd64, whose
// numbers the filter refuses outright; offCloneFlags the offset of the
// low half of clone's flags argument (s390x passes the stack first).
var (
	auditArch = map[string]uint32{
		"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64,
		"ppc64le": unix.AUDIT_ARCH_PPC64LE, "s390x": unix.AUDIT_ARCH_S390X,
		"riscv64": unix.AUDIT_ARCH_RISCV64, "mips64le": unix.AUDIT_ARCH_MIPSEL64,
		"loong64": unix.AUDIT_ARCH_LOONGARCH64,
	}[runtime.GOARCH]
	syscallBitX32 uint32 = map[string]uint32{"amd64": 0x40000000}[runtime.GOARCH]
	offCloneFlags uint32 = map[string]uint32{"s390x": offArg1}[runtime.GOARCH]
)

// waiterSyscalls are what a waiting launcher does after ConfineWaiter:
// the Go runtime (scheduler, memory, signals, threads, GOMAXPROCS
// updater, vDSO fallbacks), the netpoller, write for error messages,
// waiting for the child (os.Process.Wait: waitid on a pidfd, or wait4),
// signalling it (pidfd_send_signal, kill) and closing the pidfd.
var waiterSyscalls = []uintptr{
	unix.SYS_FUTEX, unix.SYS_NANOSLEEP, unix.SYS_SCHED_YIELD,
	unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MADVISE,
	unix.SYS_RT_SIGRETURN, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGACTION, unix.SYS_SIGALTSTACK,
	unix.SYS_GETPID, unix.SYS_GETTID, unix.SYS_TGKILL, unix.SYS_EXIT, unix.SYS_EXIT_GROUP,
	unix.SYS_SCHED_GETAFFINITY, unix.SYS_PREAD64, unix.SYS_GETRANDOM,
	unix.SYS_CLOCK_GETTIME, unix.SYS_GETTIMEOFDAY, unix.SYS_RESTART_SYSCALL,
	unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_CTL, unix.SYS_READ, unix.SYS_WRITE, unix.SYS_CLOSE,
	unix.SYS_WAITID, unix.SYS_WAIT4, unix.SYS_KILL, unix.SYS_PIDFD_SEND_SIGNAL,
}
