// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"net/netip"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// prohibited answers a datagram the flow policy refused with ICMP (or
// ICMPv6) destination unreachable, "administratively prohibited", from
// the destination the guest used and quoting the datagram, so that the
// guest's socket fails at once instead of waiting for a reply.
func (h *Handler) prohibited(f *l2.Frame) {
	if h.used == len(h.bufs) {
		h.st.BufferFull++
		return
	}
	buf := h.bufs[h.used]
	link := l2.Link{SrcMAC: [6]byte(h.n.OurMAC), DstMAC: [6]byte(h.n.GuestMAC)}
	n := l2.BuildAdminProhibited(buf, &link, f.Dst, f.Raw[f.L3:f.End])
	if n == 0 {
		return
	}
	h.used++
	h.out[0] = buf[:n]
	h.send(1)
	h.st.ICMPErrors++
}

// gateClose tells the flow policy that flow fl ends, with its bytes.
func (h *Handler) gateClose(fl *udpFlow) {
	fl.gated = false
	dir := audit.Outbound
	var guestEnd netip.AddrPort
	switch fl.typ {
	case flowIn:
		dir = audit.Inbound
		guestEnd = netip.AddrPortFrom(flow.BytesAddr(&fl.key.a, fl.key.v6), fl.key.aPort)
	case flowSplice:
		guestEnd = netip.AddrPortFrom(flow.BytesAddr(&fl.key.a, fl.key.v6).Unmap(), fl.key.aPort)
	default:
		guestEnd = netip.AddrPortFrom(flow.BytesAddr(&fl.key.a, fl.key.v6), fl.key.aPort)
	}
	hostEnd := netip.AddrPortFrom(flow.BytesAddr(&fl.host, fl.host6), fl.hostPort)
	h.gate.Close(policy.ProtoUDP, dir, guestEnd, hostEnd, fl.opened, h.now, fl.fromGuest, fl.toGuest)
}
