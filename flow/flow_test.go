// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "testing"

func TestRefPackRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ref  Ref
	}{
		{"zero", Ref{}},
		{"tcp", Ref{Kind: KindTCP, Index: 12345, Fd: 42}},
		{"max index", Ref{Kind: KindPing, Index: MaxIndex, Fd: 1<<31 - 1}},
		{"negative fd", Ref{Kind: KindTap, Index: 1, Fd: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Unpack(tc.ref.Pack()); got != tc.ref {
				t.Fatalf("Unpack(Pack(%+v)) = %+v", tc.ref, got)
			}
		})
	}
}
