// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import "net/netip"

// MAC is an Ethernet hardware address.
type MAC [6]byte

// DefaultOurMAC is the address gopasst uses on the link, as passt's -M default.
var DefaultOurMAC = MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}

// BroadcastMAC is ff:ff:ff:ff:ff:ff, used towards the guest until its MAC is
// learned.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Family holds the per-IP-family part of the guest's configuration.
// A zero Addr means the family is disabled.
type Family struct {
	Addr       netip.Addr   // address handed to the guest (DHCP yiaddr / DHCPv6 IA_NA / RA prefix)
	PrefixLen  int          // prefix length of Addr's subnet
	Gateway    netip.Addr   // default router (DHCP option 3; for IPv6, the RA source, link-local)
	DNS        []netip.Addr // resolvers advertised (DHCP 6, RDNSS 25, DHCPv6 23)
	MapHostLo  netip.Addr   // guest → this address reaches the host's loopback (--map-host-loopback); invalid = off
	MapGuest   netip.Addr   // guest → this address reaches Addr on the host (--map-guest-addr); invalid = off
	DNSForward netip.Addr   // guest → this address, port 53, goes to DNSHost (--dns-forward); invalid = off
	DNSHost    netip.Addr   // where forwarded DNS queries go (--dns-host)
	Outbound   netip.Addr   // source address for outbound sockets (-o); invalid = kernel's choice
	OutboundIf string       // interface outbound sockets are bound to (--outbound-if4/6, SO_BINDTODEVICE), except towards loopback; "" = any
	HostAddr   netip.Addr   // the host's own address on the outbound interface
}

// Net is the network as the guest sees it. See the package comment.
type Net struct {
	MTU      int    // MTU advertised to the guest (DHCP 26, RA MTU option); 0: do not advertise
	OurMAC   MAC    // our address on the link (-M)
	GuestMAC MAC    // learned: the source MAC of the guest's frames; BroadcastMAC until then
	Hostname string // DHCP option 12 (-H)
	FQDN     string // DHCP option 81, DHCPv6 39 (--fqdn)
	Search   []string

	V4 Family
	V6 Family
	// GuestLL6 is learned: the guest's IPv6 link-local address.
	GuestLL6 netip.Addr
	// OurLL6 is our link-local address, source of RAs and NAs (fe80::1 unless
	// the gateway is link-local).
	OurLL6 netip.Addr

	// Services that are switched off (--no-dhcp, --no-ndp, ...).
	NoDHCP, NoDHCPv6, NoNDP, NoRA, NoICMP, NoTCP, NoUDP bool
}

// HasV4 reports whether IPv4 is enabled for the guest.
func (n *Net) HasV4() bool { return n.V4.Addr.IsValid() }

// HasV6 reports whether IPv6 is enabled for the guest.
func (n *Net) HasV6() bool { return n.V6.Addr.IsValid() }
