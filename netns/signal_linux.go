// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// forwardedSignals are passed on to the child pasta waits for.
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// Grace periods between relaying a termination signal and SIGKILL.
const (
	// commandGrace: the spawned command is PID 1 of its PID namespace,
	// and the kernel drops signals from outside the namespace that PID
	// 1 has no handler for (pid_namespaces(7)): "sleep 60" would
	// ignore SIGTERM. Killing it kills every process of the namespace,
	// so nothing is left behind. Short enough that pasta ends within a
	// second of the signal.
	commandGrace = 500 * time.Millisecond
	// engineGrace: the launcher's safety net, should the engine itself
	// not end (it kills the command at commandGrace and then returns).
	engineGrace = 2 * time.Second
)

// forwardSignals relays forwardedSignals to p until stop is called. If p
// is still running grace after the first one (grace > 0), p gets SIGKILL,
// and that first signal is stored in killed (if not nil): p ended because
// of it, not by itself.
func forwardSignals(p *os.Process, grace time.Duration, killed *atomic.Int32) (stop func()) {
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	signal.Notify(ch, forwardedSignals...)
	go func() {
		var kill <-chan time.Time
		var first syscall.Signal
		for {
			select {
			case s := <-ch:
				p.Signal(s)
				if kill == nil && grace > 0 {
					first, _ = s.(syscall.Signal)
					t := time.NewTimer(grace)
					defer t.Stop()
					kill = t.C
				}
			case <-kill:
				if killed != nil {
					killed.Store(int32(first))
				}
				p.Kill()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
