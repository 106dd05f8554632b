// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"syscall"
	"testing"
	"time"
)

// TestIntegrationSandboxStopCont stops pasta's sandboxed engine with
// SIGSTOP and continues it, as a shell's ^Z and fg or a checkpointing tool
// would. The kernel resumes the threads' interrupted nanosleep, futex and
// epoll_pwait through restart_syscall, which the filter must allow: the
// engine is alive and still confined afterwards.
func TestIntegrationSandboxStopCont(t *testing.T) {
	requireRoot(t)
	cmd, out := startPasta(t, nil, "--config-net", "--", "sleep", "30")
	engine := childOf(t, cmd.Process.Pid)
	waitSeccomp(t, engine)
	time.Sleep(300 * time.Millisecond) // the threads settle into their timed waits
	for round := range 3 {
		if err := syscall.Kill(engine, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(sandboxWait)
		for procState(engine) != "T" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if s := procState(engine); s != "T" {
			t.Fatalf("round %d: engine state %q after SIGSTOP, want T", round, s)
		}
		time.Sleep(200 * time.Millisecond)
		if err := syscall.Kill(engine, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if exited(engine) {
			t.Fatalf("round %d: the engine died after SIGCONT (a refused restart_syscall?):\n%s", round, out)
		}
	}
	if s := statusField(engine, "Seccomp"); s != "2" {
		t.Errorf("engine Seccomp %q after SIGCONT, want 2", s)
	}
}
