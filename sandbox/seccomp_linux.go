// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"gopasst/policy"
)

// errNoProgram is returned on architectures without a compiled profile.
var errNoProgram = errors.New("no seccomp program for " + runtime.GOARCH + " (seccomp.profile is compiled for amd64, arm64, arm, 386, ppc64le, s390x, riscv64, mips64le and loong64)")

// bpfRetK is BPF_RET|BPF_K: return the constant in k.
const bpfRetK = 0x06

// Program returns the embedded filter for mode, decoded into instructions,
// with every "return KILL_PROCESS" (the default and the bad-architecture
// action; the generator emits no other kill) replaced by action's return
// value. The result is a fresh slice the caller owns.
func Program(mode policy.Mode, action Action) ([]unix.SockFilter, error) {
	name, err := modeName(mode)
	if err != nil {
		return nil, err
	}
	return namedProgram(name, action)
}

// modeWaiter names the filter of ConfineWaiter in seccomp.profile
// (profile.ModeWaiter): no policy.Mode, the launchers of both modes use it.
const modeWaiter = "waiter"

// modeName returns the profile's name of a daemon mode.
func modeName(mode policy.Mode) (string, error) {
	switch mode {
	case policy.ModePasst:
		return "passt", nil
	case policy.ModePasta:
		return "pasta", nil
	}
	return "", fmt.Errorf("unknown mode %d", int(mode))
}

// namedProgram is Program for the profile's mode name (passt, pasta,
// waiter).
func namedProgram(name string, action Action) ([]unix.SockFilter, error) {
	blob, err := programBlob(name)
	if err != nil {
		return nil, err
	}
	ret, err := action.ret()
	if err != nil {
		return nil, err
	}
	return decodeProgram(blob, ret)
}

// decodeProgram decodes a program in the byte order of the machine it runs
// on (cmd/seccompgen writes each architecture's in its own).
func decodeProgram(blob []byte, killRet uint32) ([]unix.SockFilter, error) {
	return decodeProgramOrder(blob, killRet, binary.NativeEndian)
}

func decodeProgramOrder(blob []byte, killRet uint32, bo binary.ByteOrder) ([]unix.SockFilter, error) {
	if len(blob) == 0 || len(blob)%8 != 0 || len(blob)/8 > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp program: bad length %d", len(blob))
	}
	prog := make([]unix.SockFilter, len(blob)/8)
	for i := range prog {
		b := blob[i*8:]
		in := unix.SockFilter{
			Code: bo.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    bo.Uint32(b[4:]),
		}
		if in.Code == bpfRetK && in.K == unix.SECCOMP_RET_KILL_PROCESS {
			in.K = killRet
		}
		prog[i] = in
	}
	return prog, nil
}

// programBlob returns the embedded program of a mode, by its name in the
// profile, for the GOARCH this binary is built for.
func programBlob(name string) ([]byte, error) {
	blob, err := filters.ReadFile("filters/seccomp_" + name + "_" + runtime.GOARCH + ".bpf")
	if err != nil || len(blob) == 0 {
		return nil, errNoProgram
	}
	return blob, nil
}

// InstallSeccomp loads the mode's filter on every thread of the process:
// PR_SET_NO_NEW_PRIVS on all threads, then seccomp(SECCOMP_SET_MODE_FILTER,
// SECCOMP_FILTER_FLAG_TSYNC). Mirrors the filter part of isolate_postfork()
// in passt's isolation.c, which needs no TSYNC because passt has one thread.
//
// TSYNC is mandatory in Go: the runtime already runs several threads, and a
// filter on one thread only would leave the others unconfined. The kernel
// returns the ID of a thread it could not synchronise (one with an
// unrelated filter); that is an error here. Threads the runtime creates
// later inherit the filter from their creator.
func InstallSeccomp(mode policy.Mode, action Action) error {
	prog, err := Program(mode, action)
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := setNoNewPrivs(); err != nil {
		return err
	}
	tid, err := seccompSetFilter(prog, unix.SECCOMP_FILTER_FLAG_TSYNC)
	if err != nil {
		return fmt.Errorf("seccomp(SET_MODE_FILTER, TSYNC): %w", err)
	}
	if tid != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER, TSYNC): thread %d could not be synchronised", tid)
	}
	state.Seccomp, state.Action, state.Instructions = true, action, len(prog)
	return nil
}

// setNoNewPrivs sets PR_SET_NO_NEW_PRIVS on every thread. TSYNC would copy
// it from the calling thread anyway; setting it everywhere first keeps the
// state uniform even if the filter fails to load.
func setNoNewPrivs() error {
	if _, _, e := allThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); e != 0 {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS) on all threads: %w", e)
	}
	state.NoNewPrivs = true
	return nil
}
