// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FuzzMessages sends the front end's side of the protocol as arbitrary
// bytes (no fds) and lets the device handle them: it must answer, refuse
// or end the connection, never crash or hang.
func FuzzMessages(f *testing.F) {
	msg := func(r Request, flags uint32, p []byte) []byte {
		b := make([]byte, headerSize)
		Header(b).Set(r, flags, uint32(len(p)))
		return append(b, p...)
	}
	var setup []byte
	setup = append(setup, msg(ReqGetFeatures, flagVersion, nil)...)
	setup = append(setup, msg(ReqSetProtocolFeatures, flagVersion, u64(ProtocolFeatures))...)
	setup = append(setup, msg(ReqSetFeatures, flagVersion|flagNeedReply, u64(Features))...)
	setup = append(setup, msg(ReqSetVringNum, flagVersion, vringState(1, 256))...)
	setup = append(setup, msg(ReqSetVringBase, flagVersion, vringState(1, 7))...)
	setup = append(setup, msg(ReqSetVringKick, flagVersion, u64(1|vringFdNoFd))...)
	setup = append(setup, msg(ReqSetVringEnable, flagVersion|flagNeedReply, vringState(1, 1))...)
	setup = append(setup, msg(ReqGetVringBase, flagVersion, vringState(1, 0))...)
	f.Add(setup)
	f.Add(msg(ReqSetMemTable, flagVersion, memTable([4]uint64{0, 4096, 0, 0})))
	f.Add(msg(ReqSetVringAddr, flagVersion, make([]byte, vringAddrSize)))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4096 {
			return // replies must fit the socket buffer: the test does not read them
		}
		fe := newFrontend(t)
		if _, err := unix.Write(fe.conn, in); err != nil {
			t.Fatal(err)
		}
		unix.Shutdown(fe.conn, unix.SHUT_WR)
		for range len(in)/headerSize + 2 {
			if err := fe.pump(); err != nil {
				return
			}
		}
		t.Fatal("the device read past the end of the stream")
	})
}

// FuzzRings sets the device up as qemu does, then lets the guest write
// arbitrary descriptor tables and available rings for both queues, and
// moves frames both ways: every chain must be taken, dropped or the queue
// stopped, within the buffers, never a crash.
func FuzzRings(f *testing.F) {
	valid := make([]byte, 2*(descSize+2)+4)
	binary.LittleEndian.PutUint64(valid[0:], feBufStart)
	binary.LittleEndian.PutUint32(valid[8:], 100)
	f.Add(valid, uint16(1), uint16(1))
	f.Add(make([]byte, 64), uint16(3), uint16(0xffff))
	f.Fuzz(func(t *testing.T, in []byte, txAvail, rxAvail uint16) {
		if len(in) > 2*feQSize*(descSize+2) {
			return
		}
		fe := newFrontend(t)
		fe.setup(Features)
		// in: descriptors, then available entries, for the transmit then
		// the receive queue. Addresses are folded onto twice the memory
		// around it, so that about half land inside.
		half := len(in) / 2
		for qi, part := range [][]byte{in[:half], in[half:]} {
			q := fe.q[[2]int{txQueue, rxQueue}[qi]]
			nd := min(len(part)/(descSize+2), feQSize)
			for i := range nd {
				d := part[i*descSize:][:descSize]
				e := fe.mem[q.desc+i*descSize:][:descSize]
				copy(e, d)
				addr := binary.LittleEndian.Uint64(d) % (2 * feMemSize)
				binary.LittleEndian.PutUint64(e, feGPA-feMemSize/2+addr)
			}
			copy(fe.mem[q.avail+ringHeaderSize:][:2*nd], part[nd*descSize:])
		}
		binary.LittleEndian.PutUint16(fe.mem[fe.q[txQueue].avail+2:], txAvail)
		binary.LittleEndian.PutUint16(fe.mem[fe.q[rxQueue].avail+2:], rxAvail)
		bufs := [][]byte{make([]byte, 65536), make([]byte, 1500), make([]byte, 60)}
		sizes := make([]int, len(bufs))
		iov := make([]unix.Iovec, 0, 64)
		heads := [][]byte{make([]byte, 54), make([]byte, 54), make([]byte, 54)}
		for range 3 {
			// Lend, check that every iovec is guest memory, fill
			// half of what was lent, commit.
			caps := []int{65000, 1400, 9000}
			n, iov, err := fe.dev.Lend(54, caps, iov[:0])
			if err != nil {
				t.Fatalf("Lend: %v", err)
			}
			lent := 0
			for _, c := range caps[:n] {
				if c <= 0 {
					t.Fatalf("lent %v", caps[:n])
				}
				lent += c
			}
			total := 0
			for _, v := range iov {
				b := unsafe.Slice(v.Base, v.Len)
				if !inside(fe.dev.mem.regions[0].mem, b) {
					t.Fatalf("an iovec outside guest memory")
				}
				clear(b)
				total += len(b)
			}
			if total != lent {
				t.Fatalf("iovecs of %d bytes for %d lent", total, lent)
			}
			fill := make([]int, 0, 3)
			for i, left := 0, lent/2; i < n && left > 0; i++ {
				fill = append(fill, min(caps[i], left))
				left -= caps[i]
			}
			if _, err := fe.dev.Commit(heads, fill, 34); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			n, err = fe.dev.ReadFrames(bufs, sizes)
			if err != nil {
				t.Fatalf("ReadFrames: %v", err)
			}
			for i := range n {
				if sizes[i] > len(bufs[i]) || sizes[i] <= 0 {
					t.Fatalf("frame %d: size %d in a buffer of %d", i, sizes[i], len(bufs[i]))
				}
			}
			if _, err := fe.dev.WriteFrames([][]byte{frame(60, 1), frame(9000, 2), frame(65535, 3)}); err != nil {
				t.Fatalf("WriteFrames: %v", err)
			}
		}
		if fe.dev.lend.on {
			t.Fatal("a loan still on")
		}
		for qi := range numQueues {
			q := &fe.dev.q[qi]
			if q.staged != 0 {
				t.Fatalf("queue %d: %d used entries staged after the call", qi, q.staged)
			}
		}
	})
}

// inside reports whether b lies within mem.
func inside(mem, b []byte) bool {
	m, p := uintptr(unsafe.Pointer(unsafe.SliceData(mem))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= m && p+uintptr(len(b)) <= m+uintptr(len(mem))
}
