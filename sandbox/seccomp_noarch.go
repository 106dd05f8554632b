// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && !amd64

package sandbox

// No profile is compiled for this architecture yet: Program and
// InstallSeccomp fail with errNoProgram. Adding one needs per-arch clone
// flags (arm64: 0x50f00) and names (no epoll_wait, open or fork on arm64).
var passtProgram, pastaProgram []byte
