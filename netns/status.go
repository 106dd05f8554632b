// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"syscall"
)

// ExitStatus turns the state of a finished process into the status a shell
// would report: its exit code, or 128 plus the signal that killed it, as
// pasta_child_handler() in passt pasta.c. A nil state gives 1.
func ExitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return ps.ExitCode()
	}
	return waitStatusCode(ws)
}

func waitStatusCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}
