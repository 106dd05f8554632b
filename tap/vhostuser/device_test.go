// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
	"gopasst/tap"
)

func frame(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// putTx writes a transmit buffer (header then frame) at off and returns
// its length.
func (f *frontend) putTx(off int, fr []byte) int {
	clear(f.mem[off : off+netHdrSize])
	copy(f.mem[off+netHdrSize:], fr)
	return netHdrSize + len(fr)
}

// TestTransmit: frames the guest transmits, in one buffer or spread over
// several (the header alone in the first, as Linux does without
// VERSION_1 tricks), come out of ReadFrames whole; every chain is
// returned used, and the guest is notified once per batch.
func TestTransmit(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		split []int // buffer sizes, the last takes the rest
	}{
		{"one buffer", 1514, nil},
		{"header apart", 1514, []int{netHdrSize}},
		{"header cut", 600, []int{5, 100}},
		{"64 KiB in pages", 65535, []int{4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096}},
		{"minimal", 14, nil},
	}
	f := newFrontend(t)
	f.setup(Features)
	bufs := [][]byte{make([]byte, 65536), make([]byte, 65536)}
	sizes := make([]int, 2)
	for i, tt := range tests {
		fr := frame(tt.size, byte(i))
		total := f.putTx(feBufStart, fr)
		var chain [][3]int
		off := feBufStart
		for _, s := range tt.split {
			chain = append(chain, [3]int{off, s, 0})
			off += s
			total -= s
		}
		chain = append(chain, [3]int{off, total, 0})
		head := f.addChain(txQueue, chain...)
		unix.Write(f.kick[txQueue], u64(1))
		n, err := f.dev.ReadFrames(bufs, sizes)
		if err != nil || n != 1 {
			t.Fatalf("%s: ReadFrames = %d, %v", tt.name, n, err)
		}
		if !bytes.Equal(bufs[0][:sizes[0]], fr) {
			t.Errorf("%s: frame differs (%d bytes, want %d)", tt.name, sizes[0], len(fr))
		}
		if u := f.usedEntries(txQueue); len(u) != 1 || u[0] != [2]uint32{uint32(head), 0} {
			t.Errorf("%s: used %v, want [[%d 0]]", tt.name, u, head)
		}
		if !f.called(txQueue) {
			t.Errorf("%s: guest not notified", tt.name)
		}
	}
}

// TestTransmitBatch: more chains than buffers: ReadFrames fills every
// buffer, the next call takes the rest.
func TestTransmitBatch(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	var want [][]byte
	for i := range 5 {
		fr := frame(100+i, byte(i))
		want = append(want, fr)
		off := feBufStart + i*4096
		f.addChain(txQueue, [3]int{off, f.putTx(off, fr), 0})
	}
	bufs := [][]byte{make([]byte, 2048), make([]byte, 2048), make([]byte, 2048)}
	sizes := make([]int, 3)
	var got [][]byte
	for range 3 {
		n, err := f.dev.ReadFrames(bufs, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			got = append(got, bytes.Clone(bufs[i][:sizes[i]]))
		}
	}
	if len(got) != 5 {
		t.Fatalf("got %d frames, want 5", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("frame %d differs", i)
		}
	}
}

// postRx makes n receive buffers of size bytes available, one
// descriptor each (mergeable buffers, as Linux posts them).
func (f *frontend) postRx(n, size int) {
	for range n {
		d := int(f.q[rxQueue].nextDesc)
		f.addChain(rxQueue, [3]int{0x200000 + d*size, size, 1})
	}
}

// rxFrames reads what the device wrote: for each frame, its header's
// num_buffers and its bytes, gathered over the used entries.
func (f *frontend) rxFrames(size int) (frames [][]byte, nbufs []int) {
	used := f.usedEntries(rxQueue)
	for len(used) > 0 {
		off := 0x200000 + int(used[0][0])*size
		nb := int(binary.LittleEndian.Uint16(f.mem[off+netHdrNumBuffers:]))
		if nb == 0 || nb > len(used) {
			f.t.Fatalf("num_buffers %d with %d used entries", nb, len(used))
		}
		var fr []byte
		for k := range nb {
			off := 0x200000 + int(used[k][0])*size
			fr = append(fr, f.mem[off:off+int(used[k][1])]...)
		}
		frames = append(frames, fr[netHdrSize:])
		nbufs = append(nbufs, nb)
		used = used[nb:]
	}
	return frames, nbufs
}

// TestReceiveMergeable: frames go into as many buffers as they need,
// num_buffers says how many; without room the frame is not taken (and
// nothing is consumed), and it goes through once buffers come.
func TestReceiveMergeable(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	const size = 1536
	f.postRx(64, size)
	in := [][]byte{frame(60, 1), frame(1514, 2), frame(size-netHdrSize, 3), frame(65535, 4)}
	n, err := f.dev.WriteFrames(in)
	if err != nil || n != len(in) {
		t.Fatalf("WriteFrames = %d, %v", n, err)
	}
	if !f.called(rxQueue) {
		t.Error("guest not notified")
	}
	got, nb := f.rxFrames(size)
	if len(got) != len(in) {
		t.Fatalf("%d frames, want %d", len(got), len(in))
	}
	for i := range in {
		if !bytes.Equal(got[i], in[i]) {
			t.Errorf("frame %d differs (%d bytes, want %d)", i, len(got[i]), len(in[i]))
		}
	}
	if want := []int{1, 1, 1, 43}; !equalInts(nb, want) {
		t.Errorf("num_buffers %v, want %v", nb, want)
	}
	// 64 - 46 = 18 buffers left: a 64 KiB frame does not fit, and waits
	// in the backlog, taking no buffer.
	n, _ = f.dev.WriteFrames([][]byte{frame(65535, 5)})
	if n != 1 || len(f.usedEntries(rxQueue)) != 0 || f.dev.backlog.n != 1 {
		t.Fatalf("without room: took %d, backlog %d", n, f.dev.backlog.n)
	}
	// A frame behind it waits too, even if it would fit: order holds.
	n, _ = f.dev.WriteFrames([][]byte{frame(60, 6)})
	if n != 1 || len(f.usedEntries(rxQueue)) != 0 || f.dev.backlog.n != 2 {
		t.Fatalf("behind the backlog: took %d, backlog %d", n, f.dev.backlog.n)
	}
	// The guest posts buffers and kicks: both go out, in order.
	f.postRx(64, size)
	unix.Write(f.kick[rxQueue], u64(1))
	if _, err := f.dev.ReadFrames(nil, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = f.rxFrames(size)
	if len(got) != 2 || !bytes.Equal(got[0], frame(65535, 5)) || !bytes.Equal(got[1], frame(60, 6)) {
		t.Errorf("after the kick: %d frames, or they differ", len(got))
	}
	if !f.called(rxQueue) {
		t.Error("guest not notified after the kick")
	}
}

// TestReceiveBacklogFull: with the ring and the backlog full, frames are
// left to the caller (counted by the engine as a full device).
func TestReceiveBacklogFull(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	big := frame(65535, 1)
	taken := 0
	for range backlogBytes/len(big) + 10 {
		n, err := f.dev.WriteFrames([][]byte{big})
		if err != nil {
			t.Fatal(err)
		}
		taken += n
	}
	if taken == 0 || taken > backlogBytes/len(big) {
		t.Fatalf("took %d frames of 64 KiB into a backlog of %d bytes", taken, backlogBytes)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNotReady: before the rings are set up and enabled, nothing moves
// and nothing breaks.
func TestNotReady(t *testing.T) {
	f := newFrontend(t)
	if n, err := f.dev.WriteFrames([][]byte{frame(60, 0)}); n != 0 || err != nil {
		t.Fatalf("WriteFrames before setup = %d, %v", n, err)
	}
	if n, err := f.dev.ReadFrames([][]byte{make([]byte, 100)}, []int{0}); n != 0 || err != nil {
		t.Fatalf("ReadFrames before setup = %d, %v", n, err)
	}
}

// TestStopRestart: GET_VRING_BASE stops a queue and returns where it
// stands; SET_VRING_BASE and a new kick restart it there (qemu stopping
// and starting the device, a guest reboot).
func TestStopRestart(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	for i := range 3 {
		off := feBufStart + i*4096
		f.addChain(txQueue, [3]int{off, f.putTx(off, frame(100, byte(i))), 0})
	}
	bufs, sizes := [][]byte{make([]byte, 2048)}, []int{0}
	if n, _ := f.dev.ReadFrames(bufs, sizes); n != 1 {
		t.Fatal("no frame")
	}
	if base := f.request(ReqGetVringBase, vringState(txQueue, 0), nil, false); base != 1 {
		t.Fatalf("GET_VRING_BASE = %d, want 1", base)
	}
	if n, _ := f.dev.ReadFrames(bufs, sizes); n != 0 {
		t.Fatal("a stopped queue moved")
	}
	kick, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
	defer unix.Close(kick)
	f.ok(ReqSetVringBase, vringState(txQueue, 1), nil)
	f.ok(ReqSetVringAddr, f.vringAddr(txQueue), nil)
	f.ok(ReqSetVringKick, u64(txQueue), []int{kick})
	f.ok(ReqSetVringEnable, vringState(txQueue, 1), nil)
	n, _ := f.dev.ReadFrames([][]byte{make([]byte, 2048), make([]byte, 2048), make([]byte, 2048)}, make([]int, 3))
	if n != 2 {
		t.Fatalf("after the restart: %d frames, want 2", n)
	}
}

// TestHostileRings: a guest that writes nonsense into its rings gets its
// chain dropped or its queue stopped, counted; no crash, nothing read or
// written outside guest memory (the race detector and the fault guard
// would tell).
func TestHostileRings(t *testing.T) {
	type hostile struct {
		name   string
		q      int
		mangle func(f *frontend)
		stops  bool // the queue is stopped (not just a chain dropped)
	}
	desc := func(f *frontend, q int, i int) []byte { return f.mem[f.q[q].desc+i*descSize:] }
	tests := []hostile{
		{"tx avail index far ahead", txQueue, func(f *frontend) {
			binary.LittleEndian.PutUint16(f.mem[f.q[txQueue].avail+2:], 1000)
		}, true},
		{"tx head beyond table", txQueue, func(f *frontend) { f.makeAvail(txQueue, feQSize+3) }, true},
		{"tx address outside memory", txQueue, func(f *frontend) {
			f.addChain(txQueue, [3]int{feMemSize + 4096, 100, 0})
		}, false},
		{"tx length past the end of memory", txQueue, func(f *frontend) {
			f.addChain(txQueue, [3]int{feMemSize - 100, 1000, 0})
		}, false},
		{"tx address wraps", txQueue, func(f *frontend) {
			h := f.addChain(txQueue, [3]int{0, 100, 0})
			binary.LittleEndian.PutUint64(desc(f, txQueue, int(h)), ^uint64(0)-10)
		}, false},
		{"tx loop", txQueue, func(f *frontend) {
			h := f.addChain(txQueue, [3]int{feBufStart, 100, 0}, [3]int{feBufStart, 100, 0})
			binary.LittleEndian.PutUint16(desc(f, txQueue, int(h)+1)[12:], descFNext)
			binary.LittleEndian.PutUint16(desc(f, txQueue, int(h)+1)[14:], h)
		}, false},
		{"tx next beyond table", txQueue, func(f *frontend) {
			h := f.addChain(txQueue, [3]int{feBufStart, 100, 0}, [3]int{feBufStart, 100, 0})
			binary.LittleEndian.PutUint16(desc(f, txQueue, int(h))[14:], 9999)
		}, false},
		{"tx indirect", txQueue, func(f *frontend) {
			h := f.addChain(txQueue, [3]int{feBufStart, 100, 0})
			binary.LittleEndian.PutUint16(desc(f, txQueue, int(h))[12:], descFIndirect)
		}, false},
		{"tx device-writable", txQueue, func(f *frontend) { f.addChain(txQueue, [3]int{feBufStart, 100, 1}) }, false},
		{"tx shorter than its header", txQueue, func(f *frontend) { f.addChain(txQueue, [3]int{feBufStart, 5, 0}) }, false},
		{"rx read-only buffer", rxQueue, func(f *frontend) { f.addChain(rxQueue, [3]int{0x200000, 2048, 0}) }, false},
		{"rx buffer smaller than the header", rxQueue, func(f *frontend) { f.addChain(rxQueue, [3]int{0x200000, 4, 1}) }, false},
		{"rx address outside memory", rxQueue, func(f *frontend) { f.addChain(rxQueue, [3]int{feMemSize, 2048, 1}) }, false},
		{"rx avail index far ahead", rxQueue, func(f *frontend) {
			binary.LittleEndian.PutUint16(f.mem[f.q[rxQueue].avail+2:], 0x8000)
		}, true},
		{"rx head beyond table", rxQueue, func(f *frontend) { f.makeAvail(rxQueue, 0xffff) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFrontend(t)
			f.setup(Features)
			tt.mangle(f)
			var err error
			if tt.q == txQueue {
				_, err = f.dev.ReadFrames([][]byte{make([]byte, 65536)}, []int{0})
			} else {
				_, err = f.dev.WriteFrames([][]byte{frame(100, 0)})
			}
			if err != nil {
				t.Fatalf("error %v: a bad ring must not end the connection", err)
			}
			if c := f.dev.Counters(); c.RingErrors != 1 {
				t.Errorf("RingErrors = %d, want 1", c.RingErrors)
			}
			if got := f.dev.q[tt.q].state == ringBroken; got != tt.stops {
				t.Errorf("queue stopped = %v, want %v", got, tt.stops)
			}
			if !tt.stops && len(f.usedEntries(tt.q)) != 1 {
				t.Error("the bad chain was not given back")
			}
			// A new kick (qemu restarting the queue) makes it work again.
			if tt.stops {
				f.request(ReqGetVringBase, vringState(uint32(tt.q), 0), nil, false)
				kick, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
				defer unix.Close(kick)
				f.ok(ReqSetVringBase, vringState(uint32(tt.q), uint32(f.q[tt.q].availIdx)), nil)
				binary.LittleEndian.PutUint16(f.mem[f.q[tt.q].avail+2:], f.q[tt.q].availIdx)
				f.ok(ReqSetVringAddr, f.vringAddr(tt.q), nil)
				f.ok(ReqSetVringKick, u64(uint64(tt.q)), []int{kick})
				f.ok(ReqSetVringEnable, vringState(uint32(tt.q), 1), nil)
				if !f.dev.q[tt.q].ready() {
					t.Error("queue not ready after the restart")
				}
			}
		})
	}
}

// TestTooLong: a transmitted frame longer than the engine's buffer is
// dropped and counted.
func TestTooLong(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	f.addChain(txQueue, [3]int{feBufStart, f.putTx(feBufStart, frame(3000, 0)), 0})
	n, err := f.dev.ReadFrames([][]byte{make([]byte, 2048)}, []int{0})
	if n != 0 || err != nil || f.dev.Counters().TooLong != 1 {
		t.Fatalf("n=%d err=%v counters=%+v", n, err, f.dev.Counters())
	}
}

// TestProtocolErrors: a message that breaks the protocol ends the
// connection with an error naming it; the fds that came with it are
// closed, not leaked.
func TestProtocolErrors(t *testing.T) {
	hdr := func(r Request, flags, size uint32, payload []byte) []byte {
		b := make([]byte, headerSize)
		Header(b).Set(r, flags, size)
		return append(b, payload...)
	}
	tests := []struct {
		name string
		msg  []byte
		fds  int
		want string
	}{
		{"version 2", hdr(ReqGetFeatures, 2, 0, nil), 0, "version"},
		{"a reply", hdr(ReqGetFeatures, flagVersion|flagReply, 0, nil), 0, "reply"},
		{"size too large", hdr(ReqSetFeatures, flagVersion, 100000, nil), 0, "payload"},
		{"short payload", hdr(ReqSetFeatures, flagVersion, 4, []byte{1, 2, 3, 4}), 0, "payload size"},
		{"unknown request", hdr(99, flagVersion, 0, nil), 0, "unsupported request"},
		{"log base", hdr(ReqSetLogBase, flagVersion, 16, make([]byte, 16)), 1, "unsupported request"},
		{"fds where none go", hdr(ReqSetFeatures, flagVersion, 8, make([]byte, 8)), 2, "file descriptors"},
		{"unoffered feature", hdr(ReqSetFeatures, flagVersion, 8, u64(1<<featIndirectDesc)), 0, "not offered"},
		{"kick without fd", hdr(ReqSetVringKick, flagVersion, 8, u64(0)), 0, "fds"},
		{"kick queue 5", hdr(ReqSetVringKick, flagVersion, 8, u64(5|vringFdNoFd)), 0, "queue 5"},
		{"vring base queue 9", hdr(ReqGetVringBase, flagVersion, 8, vringState(9, 0)), 0, "queue 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFrontend(t)
			before := openFds(t)
			var oob []byte
			if tt.fds > 0 {
				var fds []int
				for range tt.fds {
					fd, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
					fds = append(fds, fd)
				}
				oob = unix.UnixRights(fds...)
				defer closeFds(fds)
			}
			if err := unix.Sendmsg(f.conn, tt.msg, oob, nil, 0); err != nil {
				t.Fatal(err)
			}
			before += tt.fds // the test's own, still open
			err := f.pump()
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
			if err2 := f.pump(); err2 != err {
				t.Errorf("the error is not sticky: %v", err2)
			}
			if after := openFds(t); after != before {
				t.Errorf("%d fds open, %d before: passed fds leaked", after, before)
			}
		})
	}
}

func openFds(t *testing.T) int {
	ents, err := readDirNames("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestClosed: the front end closing its end gives tap.ErrClosed.
func TestClosed(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	unix.Shutdown(f.conn, unix.SHUT_RDWR)
	if err := f.pump(); !errors.Is(err, tap.ErrClosed) {
		t.Fatalf("error %v, want tap.ErrClosed", err)
	}
}

// TestMemoryTruncated: a front end that shrinks the memory file under the
// mapping makes guest memory fault: the connection ends, the process
// does not.
func TestMemoryTruncated(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	f.postRx(4, 2048)
	if err := unix.Ftruncate(f.memfd, 0); err != nil {
		t.Fatal(err)
	}
	_, err := f.dev.WriteFrames([][]byte{frame(100, 0)})
	if !errors.Is(err, errFault) {
		t.Fatalf("error %v, want %v", err, errFault)
	}
}

// TestAllocs: moving frames both ways allocates nothing.
func TestAllocs(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	bufs, sizes := [][]byte{make([]byte, 2048)}, []int{0}
	out := [][]byte{frame(1514, 0)}
	seg, segs := [][]byte{tcpFrame(1000)}, []uint16{1460}
	caps, iov := []int{1000}, make([]unix.Iovec, 0, 4)
	heads, lsizes := [][]byte{make([]byte, 54)}, []int{1000}
	f.putTx(feBufStart, frame(1000, 1))
	allocs := testing.AllocsPerRun(200, func() {
		f.addChain(txQueue, [3]int{feBufStart, netHdrSize + 1000, 0})
		f.addChain(rxQueue, [3]int{0x200000, 2048, 1})
		if n, _ := f.dev.ReadFrames(bufs, sizes); n != 1 {
			t.Fatal("no frame read")
		}
		if n, _ := f.dev.WriteFrames(out); n != 1 {
			t.Fatal("no frame written")
		}
		f.addChain(rxQueue, [3]int{0x200000, 2048, 1})
		if n, _ := f.dev.WriteSegments(seg, segs); n != 1 {
			t.Fatal("no segment written")
		}
		f.addChain(rxQueue, [3]int{0x200000, 2048, 1})
		caps[0] = 1000
		if n, _, _ := f.dev.Lend(54, caps, iov); n != 1 {
			t.Fatal("nothing lent")
		}
		if n, _ := f.dev.Commit(heads, lsizes, 34); n != 1 {
			t.Fatal("nothing committed")
		}
		f.q[rxQueue].usedSeen = binary.LittleEndian.Uint16(f.mem[f.q[rxQueue].used+2:])
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per frame each way, want 0", allocs)
	}
}

// TestReceiveHeader: the virtio-net header the guest gets with each set
// of features: DATA_VALID only with GUEST_CSUM, num_buffers only in the
// 12-byte header, the 10-byte header without VERSION_1 and MRG_RXBUF.
func TestReceiveHeader(t *testing.T) {
	tests := []struct {
		name     string
		features uint64
		want     []byte
	}{
		{"all", Features, []byte{netHdrFDataValid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}},
		{"no guest csum", Features &^ (1 << featGuestCsum), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}},
		{"version 1 only", 1<<featVersion1 | 1<<featProtocolFeatures, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}},
		{"legacy", 1 << featProtocolFeatures, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFrontend(t)
			f.setup(tt.features)
			f.postRx(1, 4096)
			fr := frame(1000, 9)
			if n, err := f.dev.WriteFrames([][]byte{fr}); n != 1 || err != nil {
				t.Fatalf("WriteFrames = %d, %v", n, err)
			}
			u := f.usedEntries(rxQueue)
			if len(u) != 1 || int(u[0][1]) != len(tt.want)+len(fr) {
				t.Fatalf("used %v, want one of %d bytes", u, len(tt.want)+len(fr))
			}
			got := f.mem[0x200000 : 0x200000+int(u[0][1])]
			if !bytes.Equal(got[:len(tt.want)], tt.want) || !bytes.Equal(got[len(tt.want):], fr) {
				t.Errorf("header % x, want % x (or the frame differs)", got[:len(tt.want)], tt.want)
			}
		})
	}
}

// TestRoom: the room the device reports follows the receive buffers the
// guest posts and the frames written; none while frames are held back
// or before the queue is ready.
func TestRoom(t *testing.T) {
	f := newFrontend(t)
	if r := f.dev.Room(); r != 0 {
		t.Fatalf("before setup: room %d", r)
	}
	f.setup(Features)
	if r := f.dev.Room(); r != 0 {
		t.Fatalf("no buffers: room %d", r)
	}
	f.postRx(4, 1536)
	if r, want := f.dev.Room(), 4*(1536-netHdrSize); r != want {
		t.Fatalf("4 buffers: room %d, want %d", r, want)
	}
	f.dev.WriteFrames([][]byte{frame(1000, 0)})
	if r, want := f.dev.Room(), 3*(1536-netHdrSize); r != want {
		t.Fatalf("after a frame: room %d, want %d", r, want)
	}
	f.dev.WriteFrames([][]byte{frame(65535, 0)}) // held back
	if r := f.dev.Room(); r != 0 {
		t.Fatalf("with a frame held back: room %d", r)
	}
}

// tcpFrame builds an Ethernet, IPv4, TCP frame with payload whose TCP
// checksum field holds only the pseudo-header sum, as the TCP handler
// writes segment frames (flow.Segmenter).
func tcpFrame(payload int) []byte {
	f := make([]byte, 14+20+20+payload)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+payload))
	copy(ip[12:], []byte{192, 0, 2, 1})
	copy(ip[16:], []byte{192, 0, 2, 2})
	binary.BigEndian.PutUint16(ip[10:], l2.Fold(l2.Checksum(ip, 0)))
	tcp := f[34:]
	binary.BigEndian.PutUint16(tcp[0:], 80)
	binary.BigEndian.PutUint16(tcp[2:], 40000)
	tcp[12], tcp[13] = 5<<4, 0x18
	for i := range payload {
		tcp[20+i] = byte(i * 3)
	}
	pseudo := l2.PseudoHeaderSum(netip.AddrFrom4([4]byte{192, 0, 2, 1}), netip.AddrFrom4([4]byte{192, 0, 2, 2}), 6, 20+payload)
	s := pseudo
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(tcp[16:], uint16(s))
	return f
}

// TestWriteSegments: a TCP segment with a partial checksum reaches a
// guest with GUEST_CSUM as NEEDS_CSUM at the TCP checksum, untouched; a
// guest without it gets the checksum finished, and the engine's frame
// stays as it was (a capture finishes it itself). A frame that is not
// TCP is dropped and counted.
func TestWriteSegments(t *testing.T) {
	tests := []struct {
		name     string
		features uint64
		wantHdr  []byte
		finished bool
	}{
		{"guest csum", Features, []byte{netHdrFNeedsCsum, 0, 0, 0, 0, 0, 34, 0, 16, 0, 1, 0}, false},
		{"no guest csum", Features &^ (1 << featGuestCsum), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFrontend(t)
			f.setup(tt.features)
			f.postRx(2, 4096)
			fr := tcpFrame(1000)
			orig := bytes.Clone(fr)
			if n, err := f.dev.WriteSegments([][]byte{fr}, []uint16{1460}); n != 1 || err != nil {
				t.Fatalf("WriteSegments = %d, %v", n, err)
			}
			if !bytes.Equal(fr, orig) {
				t.Error("the engine's frame was changed")
			}
			u := f.usedEntries(rxQueue)
			if len(u) != 1 {
				t.Fatalf("used %v", u)
			}
			got := f.mem[0x200000 : 0x200000+int(u[0][1])]
			if !bytes.Equal(got[:netHdrSize], tt.wantHdr) {
				t.Errorf("header % x, want % x", got[:netHdrSize], tt.wantHdr)
			}
			g := got[netHdrSize:]
			sum := l2.Fold(l2.Checksum(g[34:], l2.PseudoHeaderSum(netip.AddrFrom4([4]byte{192, 0, 2, 1}), netip.AddrFrom4([4]byte{192, 0, 2, 2}), 6, len(g)-34)))
			if finished := sum == 0; finished != tt.finished {
				t.Errorf("checksum finished = %v, want %v", finished, tt.finished)
			}
			if !bytes.Equal(g[:50], orig[:50]) && !tt.finished {
				t.Error("headers differ")
			}
			// Not TCP: dropped, counted.
			udp := bytes.Clone(orig)
			udp[14+9] = 17
			if n, _ := f.dev.WriteSegments([][]byte{udp}, []uint16{1460}); n != 1 || f.dev.Counters().BadSegments != 1 {
				t.Errorf("a UDP segment frame: took %d, BadSegments %d", n, f.dev.Counters().BadSegments)
			}
		})
	}
}

// TestEventIdx: with the event index, the guest is interrupted only when
// the used index passes the used_event it wrote, and the device writes
// avail_event at the available index it has seen, so that the guest's
// next addition kicks.
func TestEventIdx(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	rx := f.q[rxQueue]
	usedEvent := func(v uint16) { binary.LittleEndian.PutUint16(f.mem[rx.avail+ringHeaderSize+2*feQSize:], v) }
	f.postRx(8, 2048)
	usedEvent(2) // interrupt when entry 2 is used: the third frame
	for i, want := range []bool{false, false, true, false} {
		if n, _ := f.dev.WriteFrames([][]byte{frame(100, byte(i))}); n != 1 {
			t.Fatal("frame not written")
		}
		if got := f.called(rxQueue); got != want {
			t.Errorf("frame %d: interrupted %v, want %v", i, got, want)
		}
	}
	// A batch that passes the event interrupts once.
	usedEvent(5)
	f.dev.WriteFrames([][]byte{frame(100, 7), frame(100, 8), frame(100, 9)})
	if !f.called(rxQueue) {
		t.Error("batch past used_event: no interrupt")
	}
	// avail_event follows the available index after each read.
	for _, q := range []int{txQueue, rxQueue} {
		if q == txQueue {
			f.addChain(txQueue, [3]int{feBufStart, f.putTx(feBufStart, frame(100, 0)), 0})
		} else {
			f.postRx(3, 2048)
		}
		f.dev.ReadFrames([][]byte{make([]byte, 2048)}, []int{0})
		at := f.q[q].used + ringHeaderSize + usedElemSize*feQSize
		if got := binary.LittleEndian.Uint16(f.mem[at:]); got != f.q[q].availIdx {
			t.Errorf("queue %d: avail_event %d, want %d", q, got, f.q[q].availIdx)
		}
	}
}

// TestNeedEvent: vring_need_event() with wrap-around.
func TestNeedEvent(t *testing.T) {
	tests := []struct {
		event, new, old uint16
		want            bool
	}{
		{0, 1, 0, true},
		{1, 1, 0, false},
		{5, 10, 3, true},
		{10, 10, 3, false},
		{9, 10, 3, true},
		{0xffff, 2, 0xfffe, true},
		{1, 2, 0xfffe, true},
		{2, 2, 0xfffe, false},
	}
	for _, tt := range tests {
		if got := needEvent(tt.event, tt.new, tt.old); got != tt.want {
			t.Errorf("needEvent(%d, %d, %d) = %v, want %v", tt.event, tt.new, tt.old, got, tt.want)
		}
	}
}

// TestEventIdxWake: with the event index, receive buffers the guest
// posts without a kick while a connection waits for room (Room found
// little) make the device wake the engine itself, once.
func TestEventIdxWake(t *testing.T) {
	f := newFrontend(t)
	f.setup(Features)
	f.postRx(2, 1536)
	if r := f.dev.Room(); r >= 64<<10 {
		t.Fatalf("room %d", r)
	}
	readable := func() bool {
		ev := make([]unix.EpollEvent, 1)
		n, _ := unix.EpollWait(f.dev.Fd(), ev, 0)
		return n > 0
	}
	f.postRx(60, 1536) // no kick: as if avail_event had been stale
	f.dev.ReadFrames(nil, nil)
	if !readable() {
		t.Fatal("new buffers while short of room: the device did not wake the engine")
	}
	f.dev.ReadFrames(nil, nil) // the wake-up is taken
	if readable() {
		t.Fatal("woken again without anything new")
	}
}
