// SPDX-License-Identifier: GPL-2.0-or-later

// Package tests holds gopasst's end-to-end tests: they build the real
// binaries and run them against real kernels (network namespaces, tap
// devices, qemu guests), as root. They are compiled only with the
// "integration" build tag and their names start with TestIntegration, so
//
//	go test -tags integration -run '^TestIntegration' -p 1 ./...
//
// runs them and plain "go test ./..." does not.
package tests
