// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/tap"
)

// TestTapFlush: the engine's Tap is a flow.Flusher. Flush writes the
// frames queued so far at once (without Run), keeps no reference to them
// (changing the buffer afterwards does not change what the guest gets),
// and reports false once the device refuses frames.
func TestTapFlush(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<10)
	dev := tap.NewStream(fds[0])
	e, err := New(Config{Net: testNet(), Device: dev, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	guest := tap.NewStream(fds[1])
	t.Cleanup(func() { e.Close(); dev.Close(); guest.Close() })

	fl, ok := e.Tap().(flow.Flusher)
	if !ok {
		t.Fatal("the engine's Tap is not a flow.Flusher")
	}
	frame := bytes.Repeat([]byte{0xaa}, 1000)
	e.Tap().Send([][]byte{frame})
	if !fl.Flush() {
		t.Fatal("Flush into an empty socket reported a full device")
	}
	frame[0] = 0x55 // the buffer is free again
	bufs, sizes := [][]byte{make([]byte, 2000)}, []int{0}
	n, err := guest.ReadFrames(bufs, sizes)
	if err != nil || n != 1 || sizes[0] != 1000 || bufs[0][0] != 0xaa {
		t.Fatalf("guest read %d frames (%v), size %d, first byte %#x; want the frame as sent", n, err, sizes[0], bufs[0][0])
	}
	if st := e.st; st.FramesOut != 1 {
		t.Fatalf("FramesOut = %d after a flush", st.FramesOut)
	}

	// Nobody reads: the socket fills up and Flush says so.
	big := make([]byte, 60000)
	full := false
	for range 100 {
		e.Tap().Send([][]byte{big})
		if !fl.Flush() {
			full = true
			break
		}
	}
	if !full {
		t.Fatal("Flush never reported the full device")
	}
}
