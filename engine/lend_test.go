// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/pcap"
)

// lendDev is a segDev that lends (tap.Lender) and logs the order of
// the calls: "w" for a write, "l" for a loan, "c" for a commit.
type lendDev struct {
	*segDev
	calls   []byte
	lending bool
	mem     [4096]byte
}

func (d *lendDev) WriteSegments(f [][]byte, segs []uint16) (int, error) {
	d.calls = append(d.calls, 'w')
	return d.segDev.WriteSegments(f, segs)
}
func (d *lendDev) WriteFrames(f [][]byte) (int, error) { return d.WriteSegments(f, nil) }
func (d *lendDev) Lending() bool                       { return d.lending }
func (d *lendDev) Lend(hdr int, caps []int, iov []unix.Iovec) (int, []unix.Iovec, error) {
	d.calls = append(d.calls, 'l')
	caps[0] = min(caps[0], len(d.mem)-hdr)
	v := unix.Iovec{Base: &d.mem[hdr]}
	v.SetLen(caps[0])
	return 1, append(iov, v), nil
}
func (d *lendDev) Commit(heads [][]byte, sizes []int, csumStart int) (int, error) {
	d.calls = append(d.calls, 'c')
	return min(len(heads), 1), nil
}

// TestLendAfterQueued: the engine's Tap lends when the device does; a
// loan first writes the frames queued before it (a lent data frame
// overtakes no ACK or FIN), and the committed frames are counted. With
// a capture on it does not lend (the capture gets copied frames).
func TestLendAfterQueued(t *testing.T) {
	dev := &lendDev{segDev: newSegDev(t, false), lending: true}
	e, err := New(Config{Net: testNet(), Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l, ok := e.Tap().(flow.Lender)
	if !ok || !l.Lending() {
		t.Fatal("the engine's Tap does not lend")
	}
	e.Tap().Send([][]byte{segFrame(t, 0)})
	caps := []int{100000}
	n, iov := l.Lend(54, caps, make([]unix.Iovec, 0, 4))
	if n != 1 || len(iov) != 1 || caps[0] != 4096-54 {
		t.Fatalf("Lend = %d, %d iovecs, caps %v", n, len(iov), caps)
	}
	l.Commit([][]byte{make([]byte, 54)}, []int{1000}, 34)
	if string(dev.calls) != "wlc" {
		t.Fatalf("device calls %q, want the queued frame written before the loan", dev.calls)
	}
	if st := e.st; st.FramesOut != 2 || st.BytesOut != uint64(54+len(segFrame(t, 0))+1000) {
		t.Fatalf("frames out %d, bytes out %d", st.FramesOut, st.BytesOut)
	}
	dev.lending = false
	if l.Lending() {
		t.Fatal("lending while the device does not")
	}

	pw, err := pcap.Create(filepath.Join(t.TempDir(), "cap.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	dev2 := &lendDev{segDev: newSegDev(t, false), lending: true}
	e2, err := New(Config{Net: testNet(), Device: dev2, Pcap: pw})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	l2 := e2.Tap().(flow.Lender)
	if n, _ := l2.Lend(54, []int{1000}, make([]unix.Iovec, 0, 4)); l2.Lending() || n != 0 {
		t.Fatal("lending with a capture on")
	}
}
