// SPDX-License-Identifier: GPL-2.0-or-later

package frag

import (
	"testing"

	"gopasst/proto/l2"
)

// FuzzReassemble feeds arbitrary frames to a Reassembler (those that parse
// as fragments) and cuts arbitrary frames with a Fragmenter: nothing may
// panic, a reassembled frame must parse whole, and every fragment must
// fit the MTU.
func FuzzReassemble(f *testing.F) {
	for _, v6 := range []bool{false, true} {
		frame := udpFrame(f, v6, 3000, 0)
		for _, fb := range cut(f, frame, 1280, 5) {
			f.Add(fb, uint16(1280))
		}
		f.Add(frame, uint16(1500))
	}
	r := New(4, 0)
	var fr Fragmenter
	buf := make([]byte, 70000)
	var now int64
	f.Fuzz(func(t *testing.T, b []byte, mtu uint16) {
		now += 1e6
		var fp l2.Frame
		if fp.Parse(b) == nil && fp.IsFragment {
			if out, _ := r.Add(&fp, now); out != nil {
				var g l2.Frame
				if err := g.Parse(out); err == nil && g.IsFragment {
					t.Fatalf("reassembled frame is still a fragment")
				}
			}
		}
		if fr.Start(b, int(mtu), 1) {
			for range 70000 {
				n, more := fr.Next(buf)
				if n-l2.EthernetSize > int(mtu) {
					t.Fatalf("fragment of %d bytes above MTU %d", n-l2.EthernetSize, mtu)
				}
				if !more {
					break
				}
			}
		}
	})
}
