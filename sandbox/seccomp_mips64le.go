// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import "embed"

// The filters cmd/seccompgen compiled for mips64le from ../seccomp.profile.
//
//go:embed filters/seccomp_*_mips64le.bpf
var filters embed.FS
