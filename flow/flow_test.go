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

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{FrameTCP.String(), "tcp"}, {FrameClass(99).String(), "FrameClass(99)"},
		{Retrans.String(), "retrans"}, {DropUnmapped.String(), "drop_unmapped"}, {NumCounters.String(), "Counter(22)"}, {Lent.String(), "lent"},
		{BadChecksum.String(), "bad_checksum"}, {Verdict(7).String(), "Verdict(7)"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
	if s := FramesOf(FrameARP, FrameEcho); !s.Has(FrameARP) || !s.Has(FrameEcho) || s.Has(FrameTCP) {
		t.Errorf("FramesOf: %b", s)
	}
	if s := CountersOf(Flows, DropRecv); !s.Has(Flows) || !s.Has(DropRecv) || s.Has(Opens) {
		t.Errorf("CountersOf: %b", s)
	}
}
