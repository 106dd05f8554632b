// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && !(amd64 || arm64 || ppc64le || s390x || riscv64 || mips64le || loong64)

package sandbox

// No waiter filter on the 32-bit architectures (386, arm), whose Go
// runtime uses other calls (mmap2, the _time64 variants): ConfineWaiter
// applies the other walls and no filter there.
var (
	auditArch, syscallBitX32, offCloneFlags uint32
	waiterSyscalls                          []uintptr
)
