// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import "testing"

// TestTableKey checks that lookup tells flows apart by every field of
// flowKey. flow.Table's own model test covers add, remove and the budget.
func TestTableKey(t *testing.T) {
	keys := []flowKey{{}, {ns: true}, {v6: true}, {aPort: 1}, {bPort: 1}, {a: [16]byte{15: 1}}, {b: [16]byte{0: 1}}}
	tb := newTable(len(keys), nil)
	for i := range keys {
		j, h := tb.lookup(&keys[i])
		if j >= 0 {
			t.Fatalf("key %+v: found at %d before it was added", keys[i], j)
		}
		tb.Add(&udpFlow{key: keys[i], fd: int32(i)}, h)
	}
	if !tb.Full() {
		t.Errorf("table of %d flows not Full", len(keys))
	}
	for i := range keys {
		if j, _ := tb.lookup(&keys[i]); j != i || tb.At(j).fd != int32(i) {
			t.Errorf("key %+v: found at %d, want %d", keys[i], j, i)
		}
	}
}
