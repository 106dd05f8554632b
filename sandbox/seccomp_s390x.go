// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import "embed"

// The filters cmd/seccompgen compiled for s390x from ../seccomp.profile.
//
//go:embed filters/seccomp_*_s390x.bpf
var filters embed.FS
