// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"net/netip"
	"testing"
)

func TestAddrBytes(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want [16]byte
	}{
		{"10.0.2.15", [16]byte{10, 0, 2, 15}},
		{"::ffff:10.0.2.15", [16]byte{10: 0xff, 11: 0xff, 12: 10, 13: 0, 14: 2, 15: 15}},
		{"fd00::15", [16]byte{0: 0xfd, 15: 0x15}},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			b := AddrBytes(a)
			if b != tc.want {
				t.Fatalf("AddrBytes(%v) = %v, want %v", a, b, tc.want)
			}
			if got := BytesAddr(&b, !a.Is4()); got != a {
				t.Fatalf("BytesAddr(AddrBytes(%v)) = %v", a, got)
			}
		})
	}
}
