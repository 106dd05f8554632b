// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"net/netip"

	"gopasst/guest"
)

// The address mapping ("NAT") between what the guest sees and what the
// host's sockets use, configured by --map-host-loopback, --map-guest-addr
// and --dns-forward/--dns-host and held in guest.Family. Mirrors
// fwd_nat_from_tap() and fwd_nat_from_host() in passt's fwd.c.

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// Loopback returns 127.0.0.1, or ::1 if v6.
func Loopback(v6 bool) netip.Addr {
	if v6 {
		return loopback6
	}
	return loopback4
}

// family returns the per-family configuration of n for a.
func family(n *guest.Net, a netip.Addr) *guest.Family {
	if a.Is4() {
		return &n.V4
	}
	return &n.V6
}

// isDNSPort reports whether port is forwarded by --dns-forward: 53 for UDP
// and TCP, and 853 (DNS over TLS) for TCP, as passt.
func isDNSPort(port uint16, udp bool) bool {
	return port == 53 || (!udp && port == 853)
}

// HostDestination maps the destination of a guest's flow to what the host
// socket connects to, as passt's fwd_nat_from_tap(), in this order:
//
//   - DNSForward, port 53 (or TCP 853) → DNSHost, same port, if DNSHost is set;
//   - MapHostLo → 127.0.0.1 or ::1;
//   - MapGuest → Addr, the guest's assigned address (-a, by default the
//     host's own), as passt's --map-guest-addr;
//   - anything else unchanged.
//
// IPv4-mapped IPv6 addresses are treated as IPv4. No allocation.
func HostDestination(n *guest.Net, dst netip.Addr, port uint16, udp bool) (hostDst netip.Addr, hostPort uint16) {
	dst = dst.Unmap()
	f := family(n, dst)
	switch {
	case f.DNSForward.IsValid() && dst == f.DNSForward && isDNSPort(port, udp) && f.DNSHost.IsValid():
		return f.DNSHost, port
	case f.MapHostLo.IsValid() && dst == f.MapHostLo:
		return Loopback(dst.Is6()), port
	case f.MapGuest.IsValid() && dst == f.MapGuest && f.Addr.IsValid():
		return f.Addr, port
	}
	return dst, port
}

// GuestSource maps the source address of a host-side packet or connection
// (inbound, or a reply) to what the guest sees, the reverse of
// HostDestination, as passt's fwd_nat_from_host():
//
//   - a loopback address → MapHostLo, if set;
//   - Addr, the guest's assigned address → MapGuest, if set;
//   - anything else unchanged.
//
// A loopback source with no MapHostLo is returned unchanged; the caller
// must not deliver it. DNS replies need the port: see GuestSourcePort.
// IPv4-mapped IPv6 addresses are treated as IPv4. No allocation.
func GuestSource(n *guest.Net, hostSrc netip.Addr) netip.Addr {
	hostSrc = hostSrc.Unmap()
	f := family(n, hostSrc)
	switch {
	case hostSrc.IsLoopback() && f.MapHostLo.IsValid():
		return f.MapHostLo
	case f.MapGuest.IsValid() && f.Addr.IsValid() && hostSrc == f.Addr:
		return f.MapGuest
	}
	return hostSrc
}

// GuestSourcePort is GuestSource for a source with a port: replies from
// DNSHost on a DNS port appear to come from DNSForward, so that the guest
// sees the answer from the address it asked. It is checked first.
func GuestSourcePort(n *guest.Net, hostSrc netip.Addr, port uint16, udp bool) netip.Addr {
	hostSrc = hostSrc.Unmap()
	f := family(n, hostSrc)
	if f.DNSForward.IsValid() && f.DNSHost.IsValid() && hostSrc == f.DNSHost && isDNSPort(port, udp) {
		return f.DNSForward
	}
	return GuestSource(n, hostSrc)
}

// NAT is the mapping of one guest.Net as a value, for handlers that take
// it through an interface so that their tests can replace it (proto/udp,
// proto/icmp). It holds one pointer: storing it in an interface does not
// allocate.
type NAT struct{ Net *guest.Net }

// HostDestination is HostDestination of m.Net.
func (m NAT) HostDestination(dst netip.Addr, port uint16, udp bool) (netip.Addr, uint16) {
	return HostDestination(m.Net, dst, port, udp)
}

// SpliceDestination is where a connection or datagram from the host's
// loopback, accepted on a -t or -u listener with no target address, goes
// inside the namespace when pasta splices it (socket to socket over the
// namespace's loopback interface instead of through the tap), as passt's
// fwd_nat_from_host() for PIF_SPLICE: the namespace's own address of the
// client's family, so that services listening only on the namespace's
// loopback are not exposed by accident; with --host-lo-to-ns-lo (loToLo)
// the namespace's loopback address. A namespace without an address of
// that family gets the loopback too. The kernel picks the source.
func SpliceDestination(n *guest.Net, loToLo, v6 bool) netip.Addr {
	if !loToLo {
		if a := family(n, Loopback(v6)).Addr; a.IsValid() && a.Is6() == v6 && !a.IsUnspecified() {
			return a
		}
	}
	return Loopback(v6)
}

// InboundSource is the source address the guest sees for an inbound flow
// (-t, -u) from client on the host, through the tap, as passt's
// nat_inbound() with its fallback in fwd_nat_from_host(): GuestSource's
// mapping, except that a client on the guest's own address (pasta copies
// the host's), or a loopback client with no --map-host-loopback, appears
// from MapHostLo or, failing that, the gateway, so that the guest's
// replies leave towards pasta and not to itself. Invalid when the family
// has neither.
func InboundSource(n *guest.Net, client netip.Addr) netip.Addr {
	client = client.Unmap()
	src := GuestSource(n, client)
	f := family(n, client)
	if src != f.Addr && !src.IsLoopback() && !src.IsUnspecified() {
		return src
	}
	if f.MapHostLo.IsValid() {
		return f.MapHostLo
	}
	if f.Gateway.IsValid() && f.Gateway != f.Addr {
		return f.Gateway
	}
	if client.Is6() && n.OurLL6.IsValid() {
		return n.OurLL6
	}
	return netip.Addr{}
}
