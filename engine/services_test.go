// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"testing"

	"gopasst/proto/linksvc"
)

// addServices adds the link services (ARP, NDP, DHCP, DHCPv6) to e, as
// cmd/internal/handlers does.
func addServices(tb testing.TB, e *Engine) {
	tb.Helper()
	hs, err := linksvc.New(e.n, e.Tap())
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hs {
		if err := e.Add(h); err != nil {
			tb.Fatal(err)
		}
	}
}
