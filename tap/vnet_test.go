// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// partialTCP builds a TCP frame with payload bytes and a partial checksum
// (l2.TCPTemplate.WritePartial) from src to dst.
func partialTCP(t *testing.T, src, dst netip.AddrPort, payload int) []byte {
	t.Helper()
	var tmpl l2.TCPTemplate
	if !tmpl.Init(&l2.TCPSegment{Src: src, Dst: dst}) {
		t.Fatal("template")
	}
	b := make([]byte, tmpl.HeaderLen()+payload)
	for i := tmpl.HeaderLen(); i < len(b); i++ {
		b[i] = byte(i * 13)
	}
	if tmpl.WritePartial(b, 7, 9, l2.TCPFlagAck|l2.TCPFlagPsh, 1000, nil, payload) != len(b) {
		t.Fatal("WritePartial")
	}
	return b
}

var (
	a4, b4 = netip.MustParseAddrPort("10.0.2.2:80"), netip.MustParseAddrPort("10.0.2.15:40000")
	a6, b6 = netip.MustParseAddrPort("[fd00::2]:80"), netip.MustParseAddrPort("[fd00::15]:40000")
)

// TestVnetHeader: the header WriteSegments puts before each frame.
func TestVnetHeader(t *testing.T) {
	for _, tc := range []struct {
		name                string
		frame               []byte
		seg                 uint16
		ok                  bool
		flags, gso          uint8
		hdrLen, size, start uint16
	}{
		{"complete frame", partialTCP(t, a4, b4, 3000), 0, true, 0, 0, 0, 0, 0},
		{"v4 GSO", partialTCP(t, a4, b4, 3000), 1460, true, unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, unix.VIRTIO_NET_HDR_GSO_TCPV4, 54, 1460, 34},
		{"v4 one segment", partialTCP(t, a4, b4, 1460), 1460, true, unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, unix.VIRTIO_NET_HDR_GSO_NONE, 54, 0, 34},
		{"v4 no payload", partialTCP(t, a4, b4, 0), 1460, true, unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, unix.VIRTIO_NET_HDR_GSO_NONE, 54, 0, 34},
		{"v6 GSO", partialTCP(t, a6, b6, 65000), 1440, true, unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, unix.VIRTIO_NET_HDR_GSO_TCPV6, 74, 1440, 54},
		{"UDP", l2test.UDP4(a4, b4, make([]byte, 3000)), 1460, false, 0, 0, 0, 0, 0},
		{"truncated", partialTCP(t, a4, b4, 0)[:50], 1460, false, 0, 0, 0, 0, 0},
		{"v6 truncated", partialTCP(t, a6, b6, 0)[:70], 1460, false, 0, 0, 0, 0, 0},
	} {
		var tun Tun
		if ok := tun.header(tc.frame, tc.seg); ok != tc.ok {
			t.Fatalf("%s: header() = %v", tc.name, ok)
		}
		if !tc.ok {
			continue
		}
		h := VnetHdr(tun.hdr[:])
		off := uint16(0)
		if tc.flags != 0 {
			off = tcpCsumOffset
		}
		if h.Flags() != tc.flags || h.GSOType() != tc.gso || h.HdrLen() != tc.hdrLen || h.GSOSize() != tc.size ||
			h.CsumStart() != tc.start || h.CsumOffset() != off {
			t.Fatalf("%s: header %x", tc.name, tun.hdr)
		}
	}
}

// TestFinishChecksum: finishing a partial checksum (ours, and the kernel's
// convention for UDP) gives the checksum a receiver verifies.
func TestFinishChecksum(t *testing.T) {
	for _, f := range [][]byte{partialTCP(t, a4, b4, 65000), partialTCP(t, a6, b6, 1001), partialTCP(t, a4, b4, 0)} {
		if !FinishSegment(f) {
			t.Fatal("FinishSegment refused a TCP frame")
		}
		if !l2test.Parse(t, f).L4ChecksumValid() {
			t.Fatal("finished TCP checksum is wrong")
		}
	}
	// UDP as the kernel hands it with NEEDS_CSUM: the pseudo-header sum
	// in the field.
	u := l2test.UDP6(a6, b6, []byte("hello, partial"))
	f := l2test.Parse(t, u)
	ul := len(u) - f.L4
	s := l2.PseudoHeaderSum(a6.Addr(), b6.Addr(), l2.ProtoUDP, ul)
	u[f.L4+6], u[f.L4+7] = byte(^l2.Fold(s)>>8), byte(^l2.Fold(s))
	if !FinishChecksum(u, f.L4, udpCsumOffset) || !l2test.Parse(t, u).L4ChecksumValid() {
		t.Fatal("finished UDP checksum is wrong")
	}
	if FinishChecksum(u, len(u)-1, udpCsumOffset) || FinishChecksum(u, -1, 0) || FinishSegment(u) {
		t.Fatal("offsets beyond the frame, or UDP as a segment, accepted")
	}
}

func TestOffloadsString(t *testing.T) {
	for o, want := range map[Offloads]string{0: "none", OffloadCsum: "csum", OffloadCsum | OffloadTSO4 | OffloadTSO6: "csum,tso4,tso6"} {
		if o.String() != want {
			t.Fatalf("%d: %q", o, o.String())
		}
	}
}
