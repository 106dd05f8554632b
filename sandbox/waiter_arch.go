// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && (amd64 || arm64)

package sandbox

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// auditArch is the AUDIT_ARCH_* value of this architecture in struct
// seccomp_data; syscallBitX32 the x32 ABI's syscall bit on amd64, whose
// numbers the filter refuses outright.
var (
	auditArch     uint32 = map[string]uint32{"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64}[runtime.GOARCH]
	syscallBitX32 uint32 = map[string]uint32{"amd64": 0x40000000}[runtime.GOARCH]
)
