// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
)

// naiveUDPChecksumOK checks a UDP checksum the slow way: build the
// pseudo-header, append the segment, sum 16-bit words, fold.
func naiveUDPChecksumOK(src, dst netip.Addr, seg []byte) bool {
	var b []byte
	b = append(b, src.AsSlice()...)
	b = append(b, dst.AsSlice()...)
	if src.Is4() {
		b = append(b, 0, l2.ProtoUDP)
		b = binary.BigEndian.AppendUint16(b, uint16(len(seg)))
	} else {
		b = binary.BigEndian.AppendUint32(b, uint32(len(seg)))
		b = append(b, 0, 0, 0, l2.ProtoUDP)
	}
	b = append(b, seg...)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var s uint32
	for i := 0; i < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return s == 0xffff
}

func TestUDPChecksumAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	addrs4 := []netip.Addr{netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"), gateway4, guestAddr4}
	addrs6 := []netip.Addr{ourLL6, guestLL6, netip.MustParseAddr("ff02::1:2"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}
	for i := range 2000 {
		pool := addrs4
		if i%2 == 1 {
			pool = addrs6
		}
		src, dst := pool[r.IntN(len(pool))], pool[r.IntN(len(pool))]
		seg := make([]byte, 8+r.IntN(600))
		for j := range seg {
			seg[j] = byte(r.Uint32())
		}
		if r.IntN(4) == 0 {
			for j := range seg {
				seg[j] = 0xff
			}
		}
		binary.BigEndian.PutUint16(seg[4:], uint16(len(seg)))
		setUDPChecksum(seg, src, dst)
		if !naiveUDPChecksumOK(src, dst, seg) {
			t.Fatalf("%v → %v, %d bytes: checksum %#04x wrong", src, dst, len(seg), l2.UDP(seg).Checksum())
		}
	}
}

// fixUDPChecksum checks that a UDP frame built by l2test carries the
// checksum the engine computes (they once disagreed for 255.255.255.255,
// when l2.PseudoHeaderSum lost a carry) and returns it unchanged.
func fixUDPChecksum(b []byte) []byte {
	var f l2.Frame
	if f.Parse(b) != nil || f.L4Proto != l2.ProtoUDP {
		panic("fixUDPChecksum: not a UDP frame")
	}
	want := l2.UDP(f.L4Bytes()).Checksum()
	setUDPChecksum(f.L4Bytes(), f.Src, f.Dst)
	if got := l2.UDP(f.L4Bytes()).Checksum(); got != want {
		panic(fmt.Sprintf("fixUDPChecksum: builder checksum %#04x, engine %#04x", want, got))
	}
	return b
}
