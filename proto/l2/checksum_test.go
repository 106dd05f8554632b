// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
)

// naiveChecksum is the RFC 1071 reference: big-endian 16-bit words, odd
// byte padded with zero, summed in 64 bits and folded.
func naiveChecksum(b []byte, initial uint32) uint16 {
	s := uint64(initial)
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint64(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// sameOnesComplement reports whether a and b are the same one's-complement
// value (0x0000 and 0xffff are both zero).
func sameOnesComplement(a, b uint16) bool {
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}

func TestChecksumRFC1071Example(t *testing.T) {
	// RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := l2.Fold(l2.Checksum(b, 0)); got != ^uint16(0xddf2) {
		t.Errorf("Fold(Checksum) = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
}

func TestChecksumMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for _, fill := range []byte{0x00, 0xff} {
		all := make([]byte, 200)
		for i := range all {
			all[i] = fill
		}
		for n := range len(all) {
			if got, want := l2.Fold(l2.Checksum(all[:n], 0)), ^naiveChecksum(all[:n], 0); got != want {
				t.Errorf("fill %#x len %d: %#04x, want %#04x", fill, n, got, want)
			}
		}
	}
	for n := 0; n < 300; n++ {
		for _, init := range []uint32{0, 1, 0xffff, 0xffffffff, r.Uint32()} {
			off := r.IntN(64)
			b := buf[off : off+n]
			if got, want := l2.Fold(l2.Checksum(b, init)), ^naiveChecksum(b, init); got != want {
				t.Fatalf("len %d init %#x: %#04x, want %#04x", n, init, got, want)
			}
		}
	}
}

func TestChecksumComposes(t *testing.T) {
	b := []byte("the quick brown fox jumps over the lazy dog!")
	for cut := 0; cut <= len(b); cut += 2 {
		if got, want := l2.Fold(l2.Checksum(b[cut:], l2.Checksum(b[:cut], 0))), l2.Fold(l2.Checksum(b, 0)); got != want {
			t.Errorf("cut %d: %#04x, want %#04x", cut, got, want)
		}
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	tests := []struct {
		name     string
		src, dst string
		proto    uint8
		length   int
	}{
		{"ipv4 tcp", "10.0.2.15", "93.184.216.34", l2.ProtoTCP, 1480},
		{"ipv6 udp", "2001:db8::1", "fe80::1", l2.ProtoUDP, 8},
		{"ipv6 long", "::1", "::2", l2.ProtoTCP, 70000},
		// The address sum of these is 0xffff_fffe-ish: adding the protocol
		// and length must carry back in (udhcpc's DISCOVER to broadcast).
		{"ipv4 broadcast udp", "255.255.255.255", "255.255.255.255", l2.ProtoUDP, 308},
		{"ipv4 all ones tcp", "255.255.255.255", "255.255.255.254", l2.ProtoTCP, 65535},
		{"ipv6 all ones", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", l2.ProtoUDP, 0x1ffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := netip.MustParseAddr(tt.src), netip.MustParseAddr(tt.dst)
			var ph []byte
			if src.Is4() {
				ph = append(ph, src.AsSlice()...)
				ph = append(ph, dst.AsSlice()...)
				ph = append(ph, 0, tt.proto)
				ph = binary.BigEndian.AppendUint16(ph, uint16(tt.length))
			} else {
				ph = append(ph, src.AsSlice()...)
				ph = append(ph, dst.AsSlice()...)
				ph = binary.BigEndian.AppendUint32(ph, uint32(tt.length))
				ph = append(ph, 0, 0, 0, tt.proto)
			}
			if got, want := l2.Fold(l2.PseudoHeaderSum(src, dst, tt.proto, tt.length)), ^naiveChecksum(ph, 0); got != want {
				t.Errorf("got %#04x, want %#04x", got, want)
			}
		})
	}
}

func TestChecksumUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		b := make([]byte, 2+2*r.IntN(40))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if i%7 == 0 {
			clear(b)
		}
		old := l2.Fold(l2.Checksum(b, 0))
		w := 2 * r.IntN(len(b)/2)
		ov := binary.BigEndian.Uint16(b[w:])
		nv := uint16(r.Uint32())
		if i%5 == 0 {
			nv = 0
		}
		binary.BigEndian.PutUint16(b[w:], nv)
		if got, want := l2.ChecksumUpdate(old, ov, nv), l2.Fold(l2.Checksum(b, 0)); !sameOnesComplement(got, want) {
			t.Fatalf("case %d: update %#04x, recompute %#04x", i, got, want)
		}
		if len(b) >= 4 && w+4 <= len(b) {
			old = l2.Fold(l2.Checksum(b, 0))
			ov32 := binary.BigEndian.Uint32(b[w:])
			nv32 := r.Uint32()
			binary.BigEndian.PutUint32(b[w:], nv32)
			if got, want := l2.ChecksumUpdate32(old, ov32, nv32), l2.Fold(l2.Checksum(b, 0)); !sameOnesComplement(got, want) {
				t.Fatalf("case %d: update32 %#04x, recompute %#04x", i, got, want)
			}
		}
	}
}

func FuzzChecksum(f *testing.F) {
	f.Add([]byte{}, uint32(0), uint16(0), uint16(0))
	f.Add([]byte{0xff}, uint32(0xffffffff), uint16(0), uint16(1))
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint32(0), uint16(2), uint16(0xffff))
	f.Add(make([]byte, 100), uint32(12345), uint16(10), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, initial uint32, at, nv uint16) {
		if got, want := l2.Fold(l2.Checksum(b, initial)), ^naiveChecksum(b, initial); got != want {
			t.Fatalf("Checksum = %#04x, naive %#04x", got, want)
		}
		if len(b) < 2 {
			return
		}
		c := append([]byte(nil), b[:len(b)&^1]...)
		w := 2 * (int(at) % (len(c) / 2))
		old := l2.Fold(l2.Checksum(c, 0))
		ov := binary.BigEndian.Uint16(c[w:])
		binary.BigEndian.PutUint16(c[w:], nv)
		if got, want := l2.ChecksumUpdate(old, ov, nv), l2.Fold(l2.Checksum(c, 0)); !sameOnesComplement(got, want) {
			t.Fatalf("ChecksumUpdate = %#04x, recomputed %#04x", got, want)
		}
		if w+4 <= len(c) {
			old = l2.Fold(l2.Checksum(c, 0))
			ov32 := binary.BigEndian.Uint32(c[w:])
			nv32 := uint32(nv)<<16 | uint32(^nv)
			binary.BigEndian.PutUint32(c[w:], nv32)
			if got, want := l2.ChecksumUpdate32(old, ov32, nv32), l2.Fold(l2.Checksum(c, 0)); !sameOnesComplement(got, want) {
				t.Fatalf("ChecksumUpdate32 = %#04x, recomputed %#04x", got, want)
			}
		}
	})
}

func BenchmarkChecksum(b *testing.B) {
	for _, size := range []int{64 << 10, 1500, 40} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			var s uint32
			for b.Loop() {
				s = l2.Checksum(buf, s&0xffff)
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

func BenchmarkChecksumNaive(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		_ = naiveChecksum(buf, 0)
	}
	b.ReportMetric(float64(len(buf))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
