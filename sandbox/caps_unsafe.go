// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The capset arguments live in package variables so that their addresses
// stay valid while AllThreadsSyscall runs the call on every thread (as
// gVisor's sandboxsetup does).
var (
	capHeader = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	capData   [2]unix.CapUserData
)

// capsetAllThreads sets permitted = effective = mask, inheritable = 0, on
// every thread.
func capsetAllThreads(mask uint64) error {
	capHeader = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3, Pid: 0}
	for i := range capData {
		v := uint32(mask >> (32 * i))
		capData[i] = unix.CapUserData{Effective: v, Permitted: v, Inheritable: 0}
	}
	_, _, e := allThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&capHeader)), uintptr(unsafe.Pointer(&capData[0])), 0)
	if e != 0 {
		return fmt.Errorf("capset(%#x) on all threads: %w", mask, errnoErr(e))
	}
	return nil
}
