// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// releaseFd is the fd on which nsinit waits (ExtraFiles[0]).
const releaseFd = 3

// NsInit is the whole of the nsinit stage: it runs in the new namespaces as
// PID 1, waits until the engine releases it (one byte on fd 3), and then
// replaces itself with COMMAND, which so becomes PID 1. It returns only on
// failure, with the error to print; pasta then exits with status 127. If
// pasta goes away before releasing, the pipe reads EOF and NsInit fails.
// args are os.Args: [marker, PATH, ARGV0, ARG...].
func NsInit(args []string) error {
	if len(args) < 3 {
		return errors.New("nsinit: no command")
	}
	// The stage variable is only a claim: nsinit is PID 1 of the PID
	// namespace Spawn created, and nothing else may pose as it (it writes
	// a sysctl of its network namespace).
	if os.Getpid() != 1 {
		return errors.New("nsinit: not PID 1 of a new PID namespace; refusing to run as this stage")
	}
	var b [1]byte
	for {
		n, err := unix.Read(releaseFd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("nsinit: wait for release: %w", err)
		}
		if n == 0 {
			return errors.New("nsinit: pasta exited before the namespace was ready")
		}
		break
	}
	unix.Close(releaseFd)
	// Let unprivileged ping sockets work for root in the namespace, as
	// pasta_setup_ns() does. Best effort.
	_ = os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 0"), 0)
	path, err := exec.LookPath(args[1])
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	err = unix.Exec(path, args[2:], cleanEnv(os.Environ()))
	return fmt.Errorf("execute %s: %w", path, err)
}
