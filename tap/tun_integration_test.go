// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tap_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
	"gopasst/tap"
	"gopasst/tap/taptest"
)

// etherTypeTest is the IEEE local experimental EtherType: the kernel sends
// none of its own, so the tests can tell their frames from IPv6 chatter.
const etherTypeTest = 0x88b5

func testFrame(n int, seq byte) []byte {
	b := make([]byte, n)
	copy(b[0:6], []byte{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55})
	copy(b[6:12], []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56})
	binary.BigEndian.PutUint16(b[12:], etherTypeTest)
	for i := 14; i < n; i++ {
		b[i] = seq + byte(i)
	}
	return b
}

// setupTun returns a Tun on tap0 in a new namespace, link up, and a packet
// socket on the same device (the "guest").
func setupTun(t *testing.T) (*tap.Tun, int) {
	dev, pkt, _ := setupTunMode(t, false)
	return dev, pkt
}

// setupTunMode is setupTun; with vnet, the tap has IFF_VNET_HDR and the
// offloads tap.SetOffloads got (which must be all it asks for: every
// kernel this runs on has them), and the namespace is returned too.
func setupTunMode(t *testing.T, vnet bool) (*tap.Tun, int, *taptest.Netns) {
	ns := taptest.NewNetns(t)
	var dev *tap.Tun
	if vnet {
		fd := taptest.OpenTapFlags(t, ns, "tap0", unix.IFF_VNET_HDR)
		off, err := tap.SetOffloads(fd)
		if err != nil {
			t.Fatal(err)
		}
		if want := tap.OffloadCsum | tap.OffloadTSO4 | tap.OffloadTSO6; off != want {
			t.Fatalf("SetOffloads = %s, want %s", off, want)
		}
		dev = tap.NewTunVnet(fd, off)
	} else {
		dev = tap.NewTun(taptest.OpenTap(t, ns, "tap0")).(*tap.Tun)
	}
	t.Cleanup(func() { dev.Close() })
	ns.MustRun("sysctl", "-qw", "net.ipv6.conf.tap0.disable_ipv6=1")
	ns.MustRun("ip", "link", "set", "tap0", "up")
	return dev, taptest.PacketSocket(t, ns, "tap0"), ns
}

// readTest reads from the Tun until it has want test frames or a second
// has passed, skipping other frames.
func readTest(t *testing.T, dev tap.Device, want int) [][]byte {
	t.Helper()
	bufs := make([][]byte, 16)
	for i := range bufs {
		bufs[i] = make([]byte, 65536)
	}
	sizes := make([]int, 16)
	var got [][]byte
	deadline := time.Now().Add(time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		n, err := dev.ReadFrames(bufs, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if sizes[i] >= 14 && binary.BigEndian.Uint16(bufs[i][12:]) == etherTypeTest {
				got = append(got, bytes.Clone(bufs[i][:sizes[i]]))
			}
		}
		if n == 0 {
			unix.Poll([]unix.PollFd{{Fd: int32(dev.Fd()), Events: unix.POLLIN}}, 50)
		}
	}
	return got
}

func TestIntegrationTunRead(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) { testIntegrationTunRead(t, vnet) })
	}
}

func testIntegrationTunRead(t *testing.T, vnet bool) {
	dev, pkt, _ := setupTunMode(t, vnet)
	var sent [][]byte
	for i, size := range []int{14, 60, 1514, 100, 42} {
		f := testFrame(size, byte(i))
		if _, err := unix.Write(pkt, f); err != nil {
			t.Fatalf("packet socket write of %d bytes: %v", size, err)
		}
		sent = append(sent, f)
	}
	got := readTest(t, dev, len(sent))
	if len(got) != len(sent) {
		t.Fatalf("read %d test frames, want %d", len(got), len(sent))
	}
	for i := range sent {
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
	// Nothing left: (0, nil), not an error.
	bufs, sizes := [][]byte{make([]byte, 2048)}, []int{0}
	for range 100 { // drain any kernel chatter, then expect EAGAIN
		if n, err := dev.ReadFrames(bufs, sizes); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			return
		}
	}
	t.Fatal("the tap never ran dry")
}

func TestIntegrationTunWrite(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) { testIntegrationTunWrite(t, vnet) })
	}
}

func testIntegrationTunWrite(t *testing.T, vnet bool) {
	dev, pkt, _ := setupTunMode(t, vnet)
	unix.SetNonblock(pkt, true)
	frames := [][]byte{testFrame(60, 1), testFrame(1514, 2), testFrame(42, 3)}
	n, err := dev.WriteFrames(frames)
	if n != len(frames) || err != nil {
		t.Fatalf("WriteFrames = (%d, %v), want (%d, nil)", n, err, len(frames))
	}
	var got [][]byte
	buf := make([]byte, 65536)
	deadline := time.Now().Add(time.Second)
	for len(got) < len(frames) && time.Now().Before(deadline) {
		m, err := unix.Read(pkt, buf)
		if err == unix.EAGAIN {
			unix.Poll([]unix.PollFd{{Fd: int32(pkt), Events: unix.POLLIN}}, 50)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m >= 14 && binary.BigEndian.Uint16(buf[12:]) == etherTypeTest {
			got = append(got, bytes.Clone(buf[:m]))
		}
	}
	if len(got) != len(frames) {
		t.Fatalf("packet socket saw %d test frames, want %d", len(got), len(frames))
	}
	for i := range frames {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
}

// TestIntegrationTunAllocs writes a batch to the tap and reads a batch
// from it, through the kernel, without allocating.
func TestIntegrationTunAllocs(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnet=%v", vnet), func(t *testing.T) { testIntegrationTunAllocs(t, vnet) })
	}
}

func testIntegrationTunAllocs(t *testing.T, vnet bool) {
	dev, pkt, _ := setupTunMode(t, vnet)
	out := [][]byte{testFrame(60, 1), testFrame(1514, 2)}
	in := testFrame(100, 3)
	bufs := make([][]byte, 8)
	for i := range bufs {
		bufs[i] = make([]byte, 65536)
	}
	sizes := make([]int, 8)
	drain := make([]byte, 65536)
	unix.SetNonblock(pkt, true)
	allocs := testing.AllocsPerRun(1000, func() {
		if n, err := dev.WriteFrames(out); n != 2 || err != nil {
			t.Fatalf("WriteFrames = %d, %v", n, err)
		}
		for {
			if _, err := unix.Read(pkt, drain); err != nil {
				break
			}
		}
		unix.Write(pkt, in)
		if n, err := dev.ReadFrames(bufs, sizes); n < 1 || err != nil {
			t.Fatalf("ReadFrames = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per write+read, want 0", allocs)
	}
}

// TestIntegrationTunSegments: through a tap with a virtio-net header, a
// TCP frame of 4000 bytes of payload with a partial checksum, written as
// a GSO frame of 1000-byte segments (MTU 1500: the frame is larger), is
// taken by the namespace's kernel as one segment: its RST (the port is
// closed; the segment has no ACK) acknowledges all 4000 bytes. The RST read back has a correct
// checksum once the device finishes it (CompleteChecksums).
func TestIntegrationTunSegments(t *testing.T) {
	dev, _, ns := setupTunMode(t, true)
	dev.CompleteChecksums(true)
	ns.MustRun("ip", "link", "set", "tap0", "mtu", "1500")
	ns.MustRun("ip", "addr", "add", "10.9.0.1/24", "dev", "tap0")
	ns.MustRun("ip", "neigh", "add", "10.9.0.2", "lladdr", "52:54:00:12:34:56", "dev", "tap0", "nud", "permanent")
	mac := tapMAC(t, ns)
	var tmpl l2.TCPTemplate
	tmpl.Init(&l2.TCPSegment{
		Link: l2.Link{SrcMAC: [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, DstMAC: mac},
		Src:  netip.MustParseAddrPort("10.9.0.2:40000"), Dst: netip.MustParseAddrPort("10.9.0.1:9"),
	})
	const payload, mss, seq = 4000, 1000, 1000
	f := make([]byte, tmpl.HeaderLen()+payload)
	n := tmpl.WritePartial(f, seq, 0, l2.TCPFlagPsh, 1000, nil, payload)
	if w, err := dev.WriteSegments([][]byte{f[:n]}, []uint16{mss}); w != 1 || err != nil {
		t.Fatalf("WriteSegments = %d, %v", w, err)
	}
	if c := dev.Counters(); c.GSOOut != 1 || c.WriteErrors != 0 || c.BadSegments != 0 {
		t.Fatalf("counters %+v", c)
	}
	bufs, sizes := [][]byte{make([]byte, 65600)}, []int{0}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		n, err := dev.ReadFrames(bufs, sizes)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			unix.Poll([]unix.PollFd{{Fd: int32(dev.Fd()), Events: unix.POLLIN}}, 50)
			continue
		}
		var fr l2.Frame
		if fr.Parse(bufs[0][:sizes[0]]) != nil || fr.L4Proto != l2.ProtoTCP {
			continue
		}
		tc := fr.TCP()
		if tc.Flags()&l2.TCPFlagRst == 0 {
			continue
		}
		if !fr.L4ChecksumValid() {
			t.Fatal("RST from the kernel: checksum not finished")
		}
		// RST for a segment without ACK and without a socket:
		// <ACK=SEG.SEQ+SEG.LEN>, the whole frame's length.
		if tc.AckNumber() != seq+payload {
			t.Fatalf("RST acknowledges %d, want %d", tc.AckNumber(), seq+payload)
		}
		return
	}
	t.Fatal("no RST from the namespace's kernel for the segment frame")
}

// tapMAC returns the MAC address of tap0 in ns.
func tapMAC(t *testing.T, ns *taptest.Netns) [6]byte {
	out := ns.MustRun("cat", "/sys/class/net/tap0/address")
	hw, err := net.ParseMAC(strings.TrimSpace(string(out)))
	if err != nil || len(hw) != 6 {
		t.Fatalf("tap0 address %q: %v", out, err)
	}
	return [6]byte(hw)
}
