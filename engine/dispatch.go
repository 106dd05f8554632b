// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"net/netip"

	"gopasst/guest"
	"gopasst/proto/arp"
	"gopasst/proto/dhcp"
	"gopasst/proto/dhcpv6"
	"gopasst/proto/l2"
	"gopasst/proto/ndp"
)

// Well-known ports of the services the engine answers itself.
const (
	portDHCPServer   = 67
	portDHCPClient   = 68
	portDHCPv6Client = 546
	portDHCPv6Server = 547
)

var (
	ipv4Broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// drop counts a frame from the guest as dropped for reason r.
func (e *Engine) drop(r DropReason, f []byte) {
	e.st.Drops[r]++
	e.st.Dropped++
	if e.trace {
		e.log.Debug("drop", "reason", r.String(), "len", len(f))
	}
}

// handleFrame is the life of one frame from the guest: capture, parse,
// learn, dispatch. Mirrors tap_handler() and tap4_handler()/tap6_handler()
// in passt tap.c.
func (e *Engine) handleFrame(b []byte, now, wall int64) {
	e.st.FramesIn++
	e.st.BytesIn += uint64(len(b))
	if e.pcap != nil {
		e.pcap.WriteNanos(b, wall)
	}
	f := &e.frame
	if err := f.Parse(b); err != nil {
		e.drop(dropReasonOf(err), b)
		return
	}
	if f.VLANTags != 0 {
		e.drop(DropBadL2, b) // as passt: no VLANs on the tap link
		return
	}
	if f.EtherType == l2.EtherTypeARP {
		e.handleARP(f)
		return
	}
	if f.IsFragment {
		// Held until the datagram is complete; then the whole
		// datagram goes on as one frame (valid until the next
		// fragment arrives).
		whole, ok := e.reasm.Add(f, now)
		if !ok {
			e.drop(DropFragment, b)
			return
		}
		if whole == nil {
			return
		}
		if err := f.Parse(whole); err != nil || f.IsFragment {
			e.drop(DropFragment, b)
			return
		}
		e.st.Reassembled++
	}
	switch f.L4Proto {
	case l2.ProtoTCP:
		e.toHandler(f, e.tcp, e.n.NoTCP, SvcTCP, DropNoHandler, now)
	case l2.ProtoUDP:
		e.handleUDP(f, now)
	case l2.ProtoICMP:
		if f.EtherType != l2.EtherTypeIPv4 || f.ICMPv4().Type() != l2.ICMPv4Echo {
			e.drop(DropNotForUs, b)
			return
		}
		e.toHandler(f, e.icmp, e.n.NoICMP, SvcICMP, DropNoHandler, now)
	case l2.ProtoICMPv6:
		if f.EtherType != l2.EtherTypeIPv6 {
			e.drop(DropProto, b)
			return
		}
		switch t := f.ICMPv6().Type(); {
		case t == l2.ICMPv6EchoRequest:
			e.toHandler(f, e.icmp, e.n.NoICMP, SvcICMP, DropNoHandler, now)
		case t >= l2.ICMPv6RouterSolicit && t <= l2.ICMPv6Redirect:
			e.handleNDP(f)
		default:
			e.drop(DropNotForUs, b)
		}
	default:
		e.drop(DropProto, b)
	}
}

// learn records the guest's MAC from the source of a frame the engine
// accepted (answered, or passed to a handler), and its IPv6 link-local
// address from the IPv6 source. passt learns from every frame; learning
// only from accepted ones keeps a malformed or unanswerable frame from
// redirecting the guest's traffic to another MAC.
func (e *Engine) learn(f *l2.Frame) {
	src := f.Ethernet().Source()
	if !l2.IsMulticastMAC(src) && src != [6]byte{} && guest.MAC(src) != e.n.OurMAC {
		e.n.GuestMAC = guest.MAC(src)
	}
	if f.EtherType == l2.EtherTypeIPv6 && f.Src.IsLinkLocalUnicast() {
		e.n.GuestLL6 = f.Src
	}
}

// toHandler passes f to a handler, or drops it.
func (e *Engine) toHandler(f *l2.Frame, h TapHandler, off bool, svc Service, none DropReason, now int64) {
	switch {
	case off:
		e.drop(DropOff, f.Raw)
	case h == nil:
		e.drop(none, f.Raw)
	default:
		e.learn(f)
		e.st.Service[svc]++
		h.HandleTap(f, now)
	}
}

// handleARP answers an ARP request with our MAC. Mirrors arp() in passt
// arp.c (the decision is in package arp).
func (e *Engine) handleARP(f *l2.Frame) {
	out := e.reserve()
	const n = l2.EthernetSize + l2.ARPSize
	if !arp.Reply(e.n, f.ARP(), l2.ARP(out[l2.EthernetSize:n])) {
		e.drop(DropNotForUs, f.Raw)
		return
	}
	e.learn(f)
	l2.Ethernet(out).Encode(f.Ethernet().Source(), e.n.OurMAC, l2.EtherTypeARP)
	e.reply(SvcARP, n)
}

// handleUDP sends DHCP and DHCPv6 to their responders and the rest to the
// UDP handler.
func (e *Engine) handleUDP(f *l2.Frame, now int64) {
	port := f.UDP().DestinationPort()
	switch {
	case f.EtherType == l2.EtherTypeIPv4 && port == portDHCPServer && !e.n.NoDHCP:
		e.handleDHCP(f)
	case f.EtherType == l2.EtherTypeIPv6 && port == portDHCPv6Server && !e.n.NoDHCPv6:
		e.handleDHCPv6(f)
	default:
		e.toHandler(f, e.udp, e.n.NoUDP, SvcUDP, DropNoUDP, now)
	}
}

// handleDHCP answers a DHCP request: payload from package dhcp, wrapped in
// UDP 67→68 from the gateway, to the guest's address and MAC or to
// broadcast. Mirrors dhcp() in passt dhcp.c.
func (e *Engine) handleDHCP(f *l2.Frame) {
	if !udpChecksumValid(f) {
		e.drop(DropBadChecksum, f.Raw)
		return
	}
	out := e.reserve()
	m, bcast, ok := dhcp.Reply(e.n, f.PayloadBytes(), out[l2.UDP4HeaderSize:])
	if !ok || m <= 0 {
		e.drop(DropNotForUs, f.Raw)
		return
	}
	e.learn(f)
	dst, dstMAC := e.n.V4.Addr, f.Ethernet().Source()
	if bcast {
		dst, dstMAC = ipv4Broadcast, l2.BroadcastMAC
	}
	d := l2.UDPDatagram{
		Link:    l2.Link{SrcMAC: e.n.OurMAC, DstMAC: dstMAC},
		Src:     netip.AddrPortFrom(e.n.V4.Gateway, portDHCPServer),
		Dst:     netip.AddrPortFrom(dst, portDHCPClient),
		Payload: out[l2.UDP4HeaderSize : l2.UDP4HeaderSize+m],
	}
	fl := l2.BuildUDP4(out, &d)
	if fl > 0 {
		setUDPChecksum(out[l2.EthernetSize+l2.IPv4MinSize:fl], d.Src.Addr(), dst)
	}
	e.reply(SvcDHCP, fl)
}

// handleDHCPv6 answers a DHCPv6 request: payload from package dhcpv6, in UDP
// from n.OurLL6 port 547 to the client's address port 546. Mirrors
// dhcpv6() in passt dhcpv6.c.
func (e *Engine) handleDHCPv6(f *l2.Frame) {
	if !udpChecksumValid(f) {
		e.drop(DropBadChecksum, f.Raw)
		return
	}
	out := e.reserve()
	m, ok := dhcpv6.Reply(e.n, f.PayloadBytes(), out[l2.UDP6HeaderSize:])
	if !ok || m <= 0 {
		e.drop(DropNotForUs, f.Raw)
		return
	}
	e.learn(f)
	d := l2.UDPDatagram{
		Link:    l2.Link{SrcMAC: e.n.OurMAC, DstMAC: f.Ethernet().Source()},
		Src:     netip.AddrPortFrom(e.n.OurLL6, portDHCPv6Server),
		Dst:     netip.AddrPortFrom(f.Src, portDHCPv6Client),
		Payload: out[l2.UDP6HeaderSize : l2.UDP6HeaderSize+m],
	}
	fl := l2.BuildUDP6(out, &d)
	if fl > 0 {
		setUDPChecksum(out[l2.EthernetSize+l2.IPv6MinSize:fl], e.n.OurLL6, f.Src)
	}
	e.reply(SvcDHCPv6, fl)
}

// handleNDP answers router and neighbour solicitations (package ndp).
func (e *Engine) handleNDP(f *l2.Frame) {
	if e.n.NoNDP {
		e.drop(DropOff, f.Raw)
		return
	}
	out := e.reserve()
	const hdr = l2.EthernetSize + l2.IPv6MinSize
	m, dst, ok := ndp.Handle(e.n, f.IPv6().HopLimit(), f.Src, f.Dst, f.L4Bytes(), out[hdr:])
	if !ok || m <= 0 {
		e.drop(DropNotForUs, f.Raw)
		return
	}
	e.learn(f)
	e.reply(SvcNDP, e.wrapICMPv6(out, dst, f.Ethernet().Source(), m))
}

// routerAdvertisement queues an unsolicited RA to all nodes, if RAs are on.
func (e *Engine) routerAdvertisement() {
	if e.n.NoNDP || e.n.NoRA || !e.n.HasV6() {
		return
	}
	out := e.reserve()
	const hdr = l2.EthernetSize + l2.IPv6MinSize
	m := ndp.RouterAdvertisement(e.n, out[hdr:])
	if m <= 0 {
		return
	}
	e.reply(SvcRA, e.wrapICMPv6(out, ndp.AllNodes, guest.BroadcastMAC, m))
}

// wrapICMPv6 writes Ethernet and IPv6 headers (from n.OurLL6, hop limit
// 255) in front of the m-byte ICMPv6 message at out[54:], whose checksum
// is already computed for that source and dst. unicastMAC is used when dst
// is not multicast. It returns the frame length.
func (e *Engine) wrapICMPv6(out []byte, dst netip.Addr, unicastMAC [6]byte, m int) int {
	dstMAC := unicastMAC
	if dst.IsMulticast() {
		a := dst.As16()
		dstMAC = [6]byte{0x33, 0x33, a[12], a[13], a[14], a[15]} // RFC 2464 §7
	}
	l2.Ethernet(out).Encode(dstMAC, e.n.OurMAC, l2.EtherTypeIPv6)
	l2.IPv6(out[l2.EthernetSize:]).Encode(&l2.IPv6Fields{
		PayloadLength: uint16(m),
		NextHeader:    l2.ProtoICMPv6,
		HopLimit:      ndp.HopLimit,
		SrcAddr:       e.n.OurLL6,
		DstAddr:       dst,
	})
	return l2.EthernetSize + l2.IPv6MinSize + m
}

// reply queues a frame of n bytes built at the reserved room and counts it.
func (e *Engine) reply(svc Service, n int) {
	if n <= 0 {
		return
	}
	e.st.Service[svc]++
	if e.trace {
		e.log.Debug("reply", "service", svc.String(), "len", n)
	}
	e.commit(n)
}
