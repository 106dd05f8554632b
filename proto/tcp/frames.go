// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
)

// frames holds the buffers of frames towards the guest, allocated once.
// flow.Tap may keep a sent frame until the end of the wake-up, so a buffer
// is used at most once per wake-up: data frames are taken in order from
// data, control frames from ctl, and reset frees both.
type frames struct {
	data     []byte // batchFrames frames of dataSize bytes
	dataSize int
	dataUsed int
	ctl      []byte // ctlFrames frames of ctlFrameSize bytes
	ctlUsed  int
	out      [][]byte     // the batch handed to Tap.Send
	iov      []unix.Iovec // peek targets, plus one for the discard buffer
}

func (f *frames) init(mtu int) {
	f.dataSize = l2.EthernetSize + mtu
	f.data = make([]byte, batchFrames*f.dataSize)
	f.ctl = make([]byte, ctlFrames*ctlFrameSize)
	f.out = make([][]byte, 0, batchFrames)
	f.iov = make([]unix.Iovec, 0, batchFrames+1)
}

func (f *frames) reset() { f.dataUsed, f.ctlUsed = 0, 0 }

// freeData returns the number of data frames left in this wake-up.
func (f *frames) freeData() int { return batchFrames - f.dataUsed }

// dataFrame returns data frame i of this wake-up, counted from dataUsed.
func (f *frames) dataFrame(i int) []byte {
	o := (f.dataUsed + i) * f.dataSize
	return f.data[o : o+f.dataSize : o+f.dataSize]
}

// ctlFrame takes a control frame buffer, or returns nil if none is left.
func (f *frames) ctlFrame() []byte {
	if f.ctlUsed == ctlFrames {
		return nil
	}
	o := f.ctlUsed * ctlFrameSize
	f.ctlUsed++
	return f.ctl[o : o+ctlFrameSize : o+ctlFrameSize]
}

// putSynOptions writes an MSS option and, if ws >= 0, a window scale
// option after a NOP, and returns their length (4 or 8).
func putSynOptions(b []byte, mss uint16, ws int) int {
	b[0], b[1] = l2.TCPOptionMSS, l2.TCPOptionMSSLength
	binary.BigEndian.PutUint16(b[2:], mss)
	if ws < 0 {
		return 4
	}
	b[4], b[5], b[6], b[7] = l2.TCPOptionNOP, l2.TCPOptionWS, l2.TCPOptionWSLength, uint8(ws)
	return 8
}
