// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"log/slog"
	"time"

	"gopasst/engine"
	"gopasst/proto/splice"
)

// exitDrain bounds how long pasta keeps translating after the spawned
// command has ended, for the connections the namespace still holds.
// TestIntegrationPastaExitReset (tests/) waits for it: change both.
const exitDrain = 30 * time.Second

// drain waits, once the spawned command has ended, until the engine holds
// no TCP connection, through the tap or spliced (sp, may be nil), (the namespace's kernel may still have data of a
// command that wrote and exited: its sockets live on with the namespace,
// which pasta keeps), or exitDrain passes, or the engine fails. The
// caller then stops the engine and closes what is left with a reset
// (handlers.Set.Close), so that a transfer cut short never looks complete
// to the host peer.
func drain(e *engine.Engine, sp *splice.Handler, engineErr <-chan error, log *slog.Logger) error {
	deadline := time.Now().Add(exitDrain)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n := e.Stats().FlowsTCP
		if sp != nil {
			n += uint64(sp.Live()) // -t from the host's loopback, -T
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			log.Warn("command ended, connections still open: resetting them", "tcp", n, "after", exitDrain)
			return nil
		}
		select {
		case err := <-engineErr:
			return err
		case <-tick.C:
		}
	}
}
