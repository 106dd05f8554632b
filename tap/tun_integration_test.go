// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tap_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	ns := taptest.NewNetns(t)
	fd := taptest.OpenTap(t, ns, "tap0")
	dev := tap.NewTun(fd).(*tap.Tun)
	t.Cleanup(func() { dev.Close() })
	ns.MustRun("sysctl", "-qw", "net.ipv6.conf.tap0.disable_ipv6=1")
	ns.MustRun("ip", "link", "set", "tap0", "up")
	return dev, taptest.PacketSocket(t, ns, "tap0")
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
	dev, pkt := setupTun(t)
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
	dev, pkt := setupTun(t)
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
	dev, pkt := setupTun(t)
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
