// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// frontend plays qemu against a Device, with real kernel objects: a UNIX
// socket pair for the protocol, a memfd as guest memory, eventfds for
// kicks and calls. It also plays the guest's virtio-net driver on the
// rings in that memory.
type frontend struct {
	t     testing.TB
	conn  int // the front end's end of the socket pair
	dev   *Device
	memfd int
	mem   []byte // the guest's memory, as the front end maps it
	q     [numQueues]guestQueue
	kick  [numQueues]int
	call  [numQueues]int
}

// Guest memory layout: one region.
const (
	feGPA      = 0x4000_0000      // guest-physical base
	feUVA      = 0x7f00_0000_0000 // the "front end's" virtual base
	feMemSize  = 8 << 20
	feQSize    = 256
	feBufStart = 0x10000 // buffers start here
)

// guestQueue is the driver's side of a split ring.
type guestQueue struct {
	desc, avail, used int // offsets in mem
	availIdx          uint16
	usedSeen          uint16
	nextDesc          uint16
}

func queueOffsets(i int) guestQueue {
	base := i * 0x4000
	return guestQueue{desc: base, avail: base + 0x1000, used: base + 0x2000}
}

// newFrontend makes the device and a front end for it, without any
// message sent yet.
func newFrontend(t testing.TB) *frontend {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	memfd, err := unix.MemfdCreate("guest", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(memfd, feMemSize); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(memfd, 0, feMemSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := New(fds[1], Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &frontend{t: t, conn: fds[0], dev: dev, memfd: memfd, mem: mem}
	for i := range numQueues {
		f.q[i] = queueOffsets(i)
		f.kick[i], err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			t.Fatal(err)
		}
		f.call[i], err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		dev.Close()
		unix.Close(f.conn)
		unix.Munmap(mem)
		unix.Close(memfd)
		for i := range numQueues {
			unix.Close(f.kick[i])
			unix.Close(f.call[i])
		}
	})
	return f
}

// send sends one message (version 1, with the need-reply flag if asked).
func (f *frontend) send(r Request, payload []byte, fds []int, needReply bool) {
	f.t.Helper()
	b := make([]byte, headerSize+len(payload))
	flags := uint32(flagVersion)
	if needReply {
		flags |= flagNeedReply
	}
	Header(b).Set(r, flags, uint32(len(payload)))
	copy(b[headerSize:], payload)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(f.conn, b, oob, nil, 0); err != nil {
		f.t.Fatalf("send %v: %v", r, err)
	}
}

// pump lets the device handle what was sent; it returns ReadFrames' error.
func (f *frontend) pump() error {
	_, err := f.dev.ReadFrames(nil, nil)
	return err
}

// recvReply reads one reply and returns its payload.
func (f *frontend) recvReply(r Request) []byte {
	f.t.Helper()
	b := make([]byte, headerSize+maxPayload)
	n, err := unix.Read(f.conn, b)
	if err != nil || n < headerSize {
		f.t.Fatalf("reply to %v: %d bytes, %v", r, n, err)
	}
	h := Header(b[:headerSize])
	if h.Request() != r || h.Flags() != flagVersion|flagReply || int(h.Size()) != n-headerSize {
		f.t.Fatalf("reply to %v: header %x", r, b[:headerSize])
	}
	return b[headerSize:n]
}

// call sends a request, pumps the device, and returns the reply if
// wantReply (or the REPLY_ACK value if needReply).
func (f *frontend) request(r Request, payload []byte, fds []int, needReply bool) uint64 {
	f.t.Helper()
	f.send(r, payload, fds, needReply)
	if err := f.pump(); err != nil {
		f.t.Fatalf("%v: %v", r, err)
	}
	switch r {
	case ReqGetFeatures, ReqGetProtocolFeatures, ReqGetQueueNum:
		return binary.LittleEndian.Uint64(f.recvReply(r))
	case ReqGetVringBase:
		return uint64(VringState(f.recvReply(r)).Num())
	}
	if needReply {
		return binary.LittleEndian.Uint64(f.recvReply(r))
	}
	return 0
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func vringState(i, n uint32) []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, i), n)
}

func (f *frontend) vringAddr(i int) []byte {
	q := f.q[i]
	b := binary.LittleEndian.AppendUint32(nil, uint32(i))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, feUVA+uint64(q.desc))
	b = binary.LittleEndian.AppendUint64(b, feUVA+uint64(q.used))
	b = binary.LittleEndian.AppendUint64(b, feUVA+uint64(q.avail))
	return binary.LittleEndian.AppendUint64(b, 0)
}

func memTable(regions ...[4]uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(regions)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, r := range regions {
		for _, v := range r {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
	}
	return b
}

// setup runs qemu's start-up sequence for a virtio-net device with the
// given features acked, and checks every REPLY_ACK.
func (f *frontend) setup(features uint64) {
	f.t.Helper()
	if got := f.request(ReqGetFeatures, nil, nil, false); got != Features {
		f.t.Fatalf("GET_FEATURES = %#x, want %#x", got, uint64(Features))
	}
	if got := f.request(ReqGetProtocolFeatures, nil, nil, false); got != ProtocolFeatures {
		f.t.Fatalf("GET_PROTOCOL_FEATURES = %#x", got)
	}
	f.request(ReqSetProtocolFeatures, u64(ProtocolFeatures), nil, false)
	f.ok(ReqSetOwner, nil, nil)
	f.ok(ReqSetFeatures, u64(features), nil)
	f.ok(ReqSetMemTable, memTable([4]uint64{feGPA, feMemSize, feUVA, 0}), []int{f.memfd})
	for i := range numQueues {
		f.ok(ReqSetVringNum, vringState(uint32(i), feQSize), nil)
		f.ok(ReqSetVringBase, vringState(uint32(i), 0), nil)
		f.ok(ReqSetVringAddr, f.vringAddr(i), nil)
		f.ok(ReqSetVringKick, u64(uint64(i)), []int{f.kick[i]})
		f.ok(ReqSetVringCall, u64(uint64(i)), []int{f.call[i]})
		f.ok(ReqSetVringEnable, vringState(uint32(i), 1), nil)
	}
}

// ok sends a request with need-reply and wants the ack 0.
func (f *frontend) ok(r Request, payload []byte, fds []int) {
	f.t.Helper()
	if v := f.request(r, payload, fds, true); v != 0 {
		f.t.Fatalf("%v: ack %d", r, v)
	}
}

// addChain puts a chain of (offset, length, writable) buffers in queue
// i's table and makes it available. It returns the head.
func (f *frontend) addChain(i int, bufs ...[3]int) uint16 {
	q := &f.q[i]
	head := q.nextDesc
	for k, b := range bufs {
		d := q.nextDesc
		q.nextDesc = (q.nextDesc + 1) % feQSize
		e := f.mem[q.desc+int(d)*descSize:]
		binary.LittleEndian.PutUint64(e[0:], feGPA+uint64(b[0]))
		binary.LittleEndian.PutUint32(e[8:], uint32(b[1]))
		var flags uint16
		if b[2] != 0 {
			flags |= descFWrite
		}
		if k < len(bufs)-1 {
			flags |= descFNext
		}
		binary.LittleEndian.PutUint16(e[12:], flags)
		binary.LittleEndian.PutUint16(e[14:], q.nextDesc)
	}
	f.makeAvail(i, head)
	return head
}

// makeAvail appends head to queue i's available ring and publishes it.
func (f *frontend) makeAvail(i int, head uint16) {
	q := &f.q[i]
	binary.LittleEndian.PutUint16(f.mem[q.avail+ringHeaderSize+2*int(q.availIdx%feQSize):], head)
	q.availIdx++
	binary.LittleEndian.PutUint16(f.mem[q.avail+2:], q.availIdx)
}

// usedEntries returns the used entries the device published since the
// last call.
func (f *frontend) usedEntries(i int) [][2]uint32 {
	q := &f.q[i]
	idx := binary.LittleEndian.Uint16(f.mem[q.used+2:])
	var out [][2]uint32
	for ; q.usedSeen != idx; q.usedSeen++ {
		e := f.mem[q.used+ringHeaderSize+usedElemSize*int(q.usedSeen%feQSize):]
		out = append(out, [2]uint32{binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:])})
	}
	// As a driver re-enabling its callback with the event index: the
	// next used entry interrupts.
	binary.LittleEndian.PutUint16(f.mem[q.avail+ringHeaderSize+2*feQSize:], q.usedSeen)
	return out
}

// called reports (and clears) whether queue i's call eventfd fired.
func (f *frontend) called(i int) bool {
	var b [8]byte
	n, _ := unix.Read(f.call[i], b[:])
	return n == 8
}
