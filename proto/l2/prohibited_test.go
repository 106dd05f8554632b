// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"bytes"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

func TestBuildAdminProhibited(t *testing.T) {
	link := &l2.Link{SrcMAC: l2test.OurMAC, DstMAC: l2test.GuestMAC}
	tests := []struct {
		name      string
		v6        bool
		offending []byte
		quote     int // bytes of the offending packet quoted
	}{
		{"udp4", false, l2test.UDP4(guest4, host4, []byte("query")), 20 + 8 + 5},
		{"echo4", false, l2test.Echo4(guest4.Addr(), host4.Addr(), 7, 1, []byte("ping")), 20 + 8 + 4},
		{"udp4 long", false, l2test.UDP4(guest4, host4, make([]byte, 1400)), 576 - 20 - 8},
		{"udp6", true, l2test.UDP6(guest6, host6, []byte("query")), 40 + 8 + 5},
		{"udp6 long", true, l2test.UDP6(guest6, host6, make([]byte, 1400)), 1280 - 40 - 8},
		{"echo6", true, l2test.Echo6(guest6.Addr(), host6.Addr(), 7, 1, []byte("ping")), 40 + 8 + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := l2test.Parse(t, tt.offending)
			pkt := f.Raw[f.L3:f.End]
			buf := make([]byte, 1600)
			n := l2.BuildAdminProhibited(buf, link, f.Dst, pkt)
			if n == 0 {
				t.Fatal("not built")
			}
			check, icmp, typ, code := l2test.IPv4, l2test.ICMPv4, uint8(3), uint8(13)
			if tt.v6 {
				check, icmp, typ, code = l2test.IPv6, l2test.ICMPv6, 1, 1
			}
			out := check(t, buf[:n], l2test.SrcMAC(l2test.OurMAC), l2test.DstMAC(l2test.GuestMAC),
				l2test.SrcAddr(f.Dst), l2test.DstAddr(f.Src), icmp(l2test.ICMPType(typ), l2test.ICMPCode(code)))
			body := out.Raw[out.L4+8 : out.End]
			if len(body) != tt.quote || !bytes.Equal(body, pkt[:tt.quote]) {
				t.Errorf("quote: %d bytes, want the first %d of the offending packet", len(body), tt.quote)
			}
			if !bytes.Equal(out.Raw[out.L4+4:out.L4+8], []byte{0, 0, 0, 0}) {
				t.Errorf("unused field % x", out.Raw[out.L4+4:out.L4+8])
			}
			if n := testing.AllocsPerRun(100, func() { l2.BuildAdminProhibited(buf, link, f.Dst, pkt) }); n != 0 {
				t.Errorf("allocates %v", n)
			}
		})
	}
	f := l2test.Parse(t, l2test.UDP4(guest4, host4, nil))
	pkt := f.Raw[f.L3:f.End]
	buf := make([]byte, 1600)
	for _, bad := range []struct {
		name string
		from netip.Addr
		pkt  []byte
		buf  []byte
	}{
		{"empty", host4.Addr(), nil, buf},
		{"short", host4.Addr(), pkt[:27], buf},
		{"family", host6.Addr(), pkt, buf},
		{"version", host4.Addr(), append([]byte{0x55}, pkt[1:]...), buf},
		{"small buffer", host4.Addr(), pkt, buf[:60]},
	} {
		if n := l2.BuildAdminProhibited(bad.buf, link, bad.from, bad.pkt); n != 0 {
			t.Errorf("%s: built %d bytes", bad.name, n)
		}
	}
}
