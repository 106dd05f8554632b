// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// commName holds the NUL-terminated name nameThreads gives every thread,
// in a package variable so that it stays put while AllThreadsSyscall runs.
var commName [16]byte

// nameThreads names every thread after argv[0] ("passt", "pasta"):
// executed from /proc/self/exe, the process would otherwise be called
// "exe" in /proc/PID/comm, ps and pgrep. Best effort.
func nameThreads() {
	if len(os.Args) == 0 {
		return
	}
	name := os.Args[0]
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return
	}
	n := copy(commName[:len(commName)-1], name)
	commName[n] = 0
	allThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(unsafe.Pointer(&commName[0])), 0)
}
