// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import "net/netip"

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// family returns the per-family configuration for a.
func (n *Net) family(a netip.Addr) *Family {
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
//   - MapGuest → HostAddr, the host's own address;
//   - anything else unchanged.
//
// IPv4-mapped IPv6 addresses are treated as IPv4. No allocation.
func (n *Net) HostDestination(dst netip.Addr, port uint16, udp bool) (hostDst netip.Addr, hostPort uint16) {
	dst = dst.Unmap()
	f := n.family(dst)
	switch {
	case f.DNSForward.IsValid() && dst == f.DNSForward && isDNSPort(port, udp) && f.DNSHost.IsValid():
		return f.DNSHost, port
	case f.MapHostLo.IsValid() && dst == f.MapHostLo:
		if dst.Is4() {
			return loopback4, port
		}
		return loopback6, port
	case f.MapGuest.IsValid() && dst == f.MapGuest && f.HostAddr.IsValid():
		return f.HostAddr, port
	}
	return dst, port
}

// GuestSource maps the source address of a host-side packet or connection
// (inbound, or a reply) to what the guest sees, the reverse of
// HostDestination:
//
//   - a loopback address → MapHostLo, if set;
//   - HostAddr → MapGuest, if set;
//   - anything else unchanged.
//
// A loopback source with no MapHostLo is returned unchanged; the caller
// must not deliver it. DNS replies need the port: see GuestSourcePort.
// IPv4-mapped IPv6 addresses are treated as IPv4. No allocation.
func (n *Net) GuestSource(hostSrc netip.Addr) netip.Addr {
	hostSrc = hostSrc.Unmap()
	f := n.family(hostSrc)
	switch {
	case hostSrc.IsLoopback() && f.MapHostLo.IsValid():
		return f.MapHostLo
	case f.MapGuest.IsValid() && f.HostAddr.IsValid() && hostSrc == f.HostAddr:
		return f.MapGuest
	}
	return hostSrc
}

// GuestSourcePort is GuestSource for a source with a port: replies from
// DNSHost on a DNS port appear to come from DNSForward, so that the guest
// sees the answer from the address it asked. It is checked first.
func (n *Net) GuestSourcePort(hostSrc netip.Addr, port uint16, udp bool) netip.Addr {
	hostSrc = hostSrc.Unmap()
	f := n.family(hostSrc)
	if f.DNSForward.IsValid() && f.DNSHost.IsValid() && hostSrc == f.DNSHost && isDNSPort(port, udp) {
		return f.DNSForward
	}
	return n.GuestSource(hostSrc)
}
