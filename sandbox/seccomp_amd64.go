// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import "embed"

// The filters cmd/seccompgen compiled for amd64 from ../seccomp.profile.
//
//go:embed filters/seccomp_*_amd64.bpf
var filters embed.FS
