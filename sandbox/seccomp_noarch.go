// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && !(amd64 || arm64 || arm || 386 || ppc64le || s390x || riscv64 || mips64le || loong64)

package sandbox

import "embed"

// No profile is compiled for this architecture (seccomp.profile covers the
// nine Debian release architectures): Program and InstallSeccomp fail with
// errNoProgram.
var filters embed.FS
