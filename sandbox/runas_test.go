// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"testing"

	"github.com/syndtr/gocapability/capability"
)

// TestDropCapsRunAsKeepRefused: leaving uid 0 empties the permitted set,
// so nothing can be kept across --runas; the refusal comes before any
// syscall.
func TestDropCapsRunAsKeepRefused(t *testing.T) {
	err := dropCaps([]capability.Cap{capability.CAP_NET_BIND_SERVICE}, &IDs{UID: 65534, GID: 65534})
	if err == nil {
		t.Fatal("dropCaps kept a capability across a uid switch")
	}
	if state.CapsDropped {
		t.Error("state says caps were dropped")
	}
}
