// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net/netip"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// FuzzHandleTap feeds arbitrary frames from the guest to a handler: it must
// never panic, and the table must stay consistent. SYNs are delivered only
// towards the mapped gateways (host loopback), so that the fuzzer connects
// nowhere else.
func FuzzHandleTap(f *testing.F) {
	src := netip.AddrPortFrom(guest4, 40000)
	dst := netip.AddrPortFrom(gw4, 9) // discard port: normally refused
	f.Add(l2test.TCP4(src, dst, l2.TCPFlagSyn, 1, 0, nil, l2test.WithMSS(1460), l2test.WithWS(7)))
	f.Add(l2test.TCP4(src, dst, l2.TCPFlagAck, 2, 5, []byte("data")))
	f.Add(l2test.TCP4(src, dst, l2.TCPFlagRst, 2, 0, nil))
	f.Add(l2test.TCP6(netip.AddrPortFrom(guest6, 1), netip.AddrPortFrom(gw6, 9), l2.TCPFlagSyn|l2.TCPFlagFin, 7, 0, []byte("x"),
		l2test.WithTCPOptions([]byte{3, 3, 200, 2, 4, 0, 0, 0})))
	e := newEnv(f, 4)
	f.Fuzz(func(t *testing.T, frame []byte) {
		e.t = t
		defer func() {
			e.h.Close() // closes the connections left; the handler stays usable
			e.take()
		}()
		var fr l2.Frame
		if fr.Parse(frame) != nil || fr.L4Proto != l2.ProtoTCP || fr.IsFragment {
			return
		}
		if fl := fr.TCP().Flags(); fl&l2.TCPFlagSyn != 0 && fr.Dst != gw4 && fr.Dst != gw6 {
			return
		}
		e.h.HandleTap(&fr, e.now)
		e.h.endWakeup(e.now)
		e.now += synTimeout + 1
		e.h.Tick(e.now)
		e.h.endWakeup(e.now)
		if e.h.Len() != e.h.tab.n || e.h.Len() > 1 {
			t.Fatalf("Len %d, slots %d", e.h.Len(), e.h.tab.n)
		}
		for _, b := range e.take() {
			e.parse(b)
		}
	})
}
