// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import _ "embed"

// The filters compiled from ../seccomp.profile by cmd/seccompgen.
var (
	//go:embed seccomp_passt_amd64.bpf
	passtProgram []byte
	//go:embed seccomp_pasta_amd64.bpf
	pastaProgram []byte
)
