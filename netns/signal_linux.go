// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"os/signal"
	"syscall"
)

// forwardedSignals are passed on to the child pasta waits for.
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// forwardSignals relays forwardedSignals to p until stop is called.
func forwardSignals(p *os.Process) (stop func()) {
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	signal.Notify(ch, forwardedSignals...)
	go func() {
		for {
			select {
			case s := <-ch:
				p.Signal(s)
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
