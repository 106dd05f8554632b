// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"encoding/binary"
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

// TestBuildUDPChecksumAgainstNaive: the checksum BuildUDP4/BuildUDP6 write
// (which the DHCP and DHCPv6 handlers send as is: busybox udhcpc drops a
// wrong one) is the one a naive sum finds, for every address including
// 0.0.0.0 and 255.255.255.255 (where l2.PseudoHeaderSum once lost a
// carry) and payloads of all ones; and Frame.UDPChecksumValid agrees,
// and refuses the datagram with one bit changed.
func TestBuildUDPChecksumAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	addrs4 := []netip.Addr{netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"),
		netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("10.0.2.15")}
	addrs6 := []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::5054:ff:fe12:3456"),
		netip.MustParseAddr("ff02::1:2"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}
	buf := make([]byte, 2048)
	for i := range 2000 {
		pool, build := addrs4, l2.BuildUDP4
		if i%2 == 1 {
			pool, build = addrs6, l2.BuildUDP6
		}
		src, dst := pool[r.IntN(len(pool))], pool[r.IntN(len(pool))]
		payload := make([]byte, r.IntN(600))
		for j := range payload {
			payload[j] = byte(r.Uint32())
		}
		if r.IntN(4) == 0 {
			for j := range payload {
				payload[j] = 0xff
			}
		}
		n := build(buf, &l2.UDPDatagram{
			Src: netip.AddrPortFrom(src, uint16(r.Uint32())), Dst: netip.AddrPortFrom(dst, uint16(r.Uint32())),
			Payload: payload,
		})
		if n == 0 {
			t.Fatalf("%v → %v: not built", src, dst)
		}
		var f l2.Frame
		if err := f.Parse(buf[:n]); err != nil {
			t.Fatal(err)
		}
		seg := f.L4Bytes()
		if !naiveUDPChecksumOK(src, dst, seg) {
			t.Fatalf("%v → %v, %d bytes: checksum %#04x wrong", src, dst, len(seg), l2.UDP(seg).Checksum())
		}
		if !f.UDPChecksumValid() {
			t.Fatalf("%v → %v: UDPChecksumValid refuses a good checksum", src, dst)
		}
		k := r.IntN(len(seg) - 2)
		if k >= 6 {
			k += 2 // any byte but the checksum's
		}
		seg[k] ^= 1 << r.IntN(8)
		if f.UDPChecksumValid() {
			t.Fatalf("%v → %v: UDPChecksumValid accepts a corrupted datagram", src, dst)
		}
	}
}
