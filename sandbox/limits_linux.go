// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Limits sets the per-process resource limits and the dumpable flag of the
// postfork stage. Mirrors the prctl(PR_SET_DUMPABLE, 0) of
// isolate_postfork() in passt's isolation.c.
//
//   - RLIMIT_CORE = 0: no core file can leak guest traffic.
//   - PR_SET_DUMPABLE 0: no ptrace attach or /proc/PID/mem access by the
//     same user, and core dumps off; /proc/PID files become root-owned.
//
// RLIMIT_FSIZE is left alone: the pcap and log files keep growing. NPROC is
// never touched (the runtime must be able to clone threads). Both rlimits
// and the dumpable flag are process-wide, so no per-thread care is needed.
func Limits() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("setrlimit(RLIMIT_CORE, 0): %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	state.Limits = true
	return nil
}
