// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

// The seccomp programs are compiled from ../seccomp.profile by a cgo build
// tool (libseccomp); the package itself stays pure Go.
//go:generate go run gopasst/cmd/seccompgen -profile ../seccomp.profile -out .
