// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/pcap"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
	"gopasst/tap"
)

// segDev is a device with tap offloads (tap.Offloader) that records what
// the engine writes: the frames (copies) and the MSS beside each.
type segDev struct {
	fd       int // an eventfd, for epoll
	frames   [][]byte
	segs     []uint16
	writes   int
	complete bool
	discard  bool
}

func (d *segDev) Fd() int                                     { return d.fd }
func (d *segDev) ReadFrames(b [][]byte, s []int) (int, error) { return 0, nil }
func (d *segDev) WriteFrames(f [][]byte) (int, error)         { return d.WriteSegments(f, nil) }
func (d *segDev) Close() error                                { return nil }
func (d *segDev) Offloads() tap.Offloads                      { return tap.OffloadCsum | tap.OffloadTSO4 | tap.OffloadTSO6 }
func (d *segDev) MaxSegment() int                             { return 0xffff }
func (d *segDev) CompleteChecksums(on bool)                   { d.complete = on }
func (d *segDev) WriteSegments(f [][]byte, segs []uint16) (int, error) {
	d.writes++
	if !d.discard {
		for i, x := range f {
			d.frames = append(d.frames, bytes.Clone(x))
			d.segs = append(d.segs, segs[i])
		}
	}
	return len(f), nil
}

// newSegDev returns a segDev on an eventfd that is never readable.
func newSegDev(t testing.TB, discard bool) *segDev {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &segDev{fd: fd, discard: discard}
}

// segFrame builds a TCP frame of payload bytes from the gateway to the
// guest with a partial checksum (l2.TCPTemplate.WritePartial).
func segFrame(t testing.TB, payload int) []byte {
	var tmpl l2.TCPTemplate
	if !tmpl.Init(&l2.TCPSegment{Src: netip.AddrPortFrom(gateway4, 80), Dst: netip.AddrPortFrom(guestAddr4, 40000)}) {
		t.Fatal("template")
	}
	b := make([]byte, tmpl.HeaderLen()+payload)
	for i := tmpl.HeaderLen(); i < len(b); i++ {
		b[i] = byte(i)
	}
	n := tmpl.WritePartial(b, 1, 1, l2.TCPFlagAck, 100, nil, payload)
	if n != len(b) {
		t.Fatalf("WritePartial: %d", n)
	}
	return b
}

// TestSegmentsNotFragmented: a device with offloads makes the engine's
// Tap a flow.Segmenter; segment frames larger than the MTU go to
// WriteSegments whole, with their MSS, while Send keeps fragmenting
// (IPv4 without DF) and gives 0. With --pcap the device is told to
// finish partial checksums, and the capture holds the segment frame whole
// with a correct checksum.
func TestSegmentsNotFragmented(t *testing.T) {
	dev := newSegDev(t, false)
	n := testNet()
	n.MTU = 1500
	path := filepath.Join(t.TempDir(), "cap.pcap")
	pw, err := pcap.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Net: n, Device: dev, Pcap: pw})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !dev.complete {
		t.Fatal("CompleteChecksums not turned on with a capture")
	}
	sg, ok := e.Tap().(flow.Segmenter)
	if !ok || sg.MaxSegment() != 0xffff {
		t.Fatalf("engine Tap: Segmenter %v, MaxSegment", ok)
	}
	seg := segFrame(t, 20000)
	sent := bytes.Clone(seg)
	sg.SendSegments([][]byte{seg}, 1460)
	udp := l2test.UDP4(netip.AddrPortFrom(gateway4, 53), netip.AddrPortFrom(guestAddr4, 5353), make([]byte, 3000))
	e.Tap().Send([][]byte{udp})
	e.flush()
	if len(dev.frames) < 4 || dev.segs[0] != 1460 || !bytes.Equal(dev.frames[0], sent) {
		t.Fatalf("device got %d frames, segs %v: the segment frame not first, whole and unchanged", len(dev.frames), dev.segs)
	}
	for i, f := range dev.frames[1:] {
		if dev.segs[i+1] != 0 || len(f)-l2.EthernetSize > 1500 {
			t.Fatalf("frame %d: %d bytes, seg %d: Send's frames are fragmented to the MTU", i+1, len(f), dev.segs[i+1])
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const fileHdr, recHdr = 24, 16
	if len(b) < fileHdr+recHdr+len(seg) {
		t.Fatalf("capture of %d bytes", len(b))
	}
	captured := b[fileHdr+recHdr : fileHdr+recHdr+len(seg)]
	f := l2test.Parse(t, captured)
	if !f.L4ChecksumValid() || !bytes.Equal(f.PayloadBytes(), sent[len(sent)-20000:]) {
		t.Fatal("captured segment frame: wrong checksum or payload")
	}
}

// TestAllocsSegments: queuing and writing segment frames allocates
// nothing.
func TestAllocsSegments(t *testing.T) {
	dev := newSegDev(t, true)
	n := testNet()
	n.MTU = 1500
	e, err := New(Config{Net: n, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sg := e.Tap().(flow.Segmenter)
	frames := [][]byte{segFrame(t, 60000), segFrame(t, 30000)}
	if a := testing.AllocsPerRun(200, func() {
		sg.SendSegments(frames, 1460)
		e.flush()
	}); a != 0 {
		t.Fatalf("%v allocations per flush of segment frames", a)
	}
	if dev.writes < 200 || e.st.FramesOut < 400 {
		t.Fatalf("%d writes, %d frames out", dev.writes, e.st.FramesOut)
	}
}

// TestReclaimAfterBurst: when the flows in use fall to a quarter of a
// peak of at least reclaimMinPeak, the engine gives memory back, then
// again at each further quarter down to none, at most once per
// reclaimEvery; a few flows never trigger it.
func TestReclaimAfterBurst(t *testing.T) {
	b := flow.NewBudget(1000)
	e, err := New(Config{Net: testNet(), Device: newSegDev(t, true), Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	now := int64(1e12)
	use := func(n int) {
		for b.Used() < n {
			b.Take()
		}
		for b.Used() > n {
			b.Give()
		}
		e.reclaim(now)
		now += reclaimEvery
	}
	for _, step := range []struct{ used, reclaims int }{
		{reclaimMinPeak - 1, 0}, {0, 0}, // a small peak: never
		{400, 0}, {101, 0}, {100, 1}, {30, 1}, {25, 2}, {6, 3}, {0, 4}, {0, 4},
	} {
		use(step.used)
		if int(e.st.Reclaims) != step.reclaims {
			t.Fatalf("%d in use: %d reclaims, want %d", step.used, e.st.Reclaims, step.reclaims)
		}
	}
	// Rate limit: a second burst, gone in two steps within a second.
	use(800)
	setUsed := func(n int) {
		for b.Used() > n {
			b.Give()
		}
	}
	setUsed(150)
	e.reclaim(now)
	setUsed(10)
	e.reclaim(now + reclaimEvery/2)
	if e.st.Reclaims != 5 {
		t.Fatalf("%d reclaims, want 5 (one per second at most)", e.st.Reclaims)
	}
	e.reclaim(now + reclaimEvery)
	if e.st.Reclaims != 6 {
		t.Fatalf("%d reclaims, want 6", e.st.Reclaims)
	}
}
