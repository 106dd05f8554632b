// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import "testing"

// TestTableKey checks that lookup tells flows apart by every part of the
// key (family, identifier, remote) and finds each one where it is after
// a removal moved it. flow.Table's own model test covers add and remove.
func TestTableKey(t *testing.T) {
	type key struct {
		v6     bool
		id     uint16
		remote [16]byte
	}
	keys := []key{{}, {v6: true}, {id: 1}, {remote: [16]byte{15: 1}}, {v6: true, id: 1, remote: [16]byte{0: 1}}}
	tb := newTable(len(keys))
	for i, k := range keys {
		if j, _ := tb.lookup(k.v6, k.id, &k.remote); j >= 0 {
			t.Fatalf("key %d: found at %d before it was added", i, j)
		}
		_, h := tb.lookup(k.v6, k.id, &k.remote)
		if j := tb.Add(&pingFlow{v6: k.v6, guestID: k.id, remote: k.remote, fd: int32(i)}, h); j != i {
			t.Fatalf("key %d: added at %d", i, j)
		}
	}
	if moved := tb.Remove(0); moved != len(keys)-1 {
		t.Fatalf("Remove(0) moved %d, want %d", moved, len(keys)-1)
	}
	for i, k := range keys {
		j, _ := tb.lookup(k.v6, k.id, &k.remote)
		switch {
		case i == 0 && j >= 0:
			t.Errorf("removed key found at %d", j)
		case i > 0 && (j < 0 || tb.At(j).fd != int32(i)):
			t.Errorf("key %d: found at %d", i, j)
		}
	}
}
