// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux && !(amd64 || arm64)

package sandbox

// No waiter filter on this architecture yet: ConfineWaiter fails.
var auditArch, syscallBitX32 uint32
