// SPDX-License-Identifier: GPL-2.0-or-later

// Package linksvc makes the link services: the handlers that answer the
// guest's ARP (proto/arp), NDP (proto/ndp), DHCP (proto/dhcp) and DHCPv6
// (proto/dhcpv6) from gopasst itself, so that the commands, the tests
// and the fuzz harnesses add the same set to an engine.
//
// # Theory of operation
//
// Each service is a flow.Handler of its own package, made from a Config
// of the guest's Net and the engine's Tap, that claims one frame class
// (flow.FrameARP, FrameNDP, FrameDHCP, FrameDHCPv6), owns no fd, and
// builds its replies in its own flow.ReplySlots. The engine sorts the
// frames (package engine), hands each to the service of its class and
// counts the verdict: flow.Accept (answered; the engine counts it under
// arp, ndp, dhcp or dhcpv6 and learns the guest's MAC from it),
// flow.NotForUs or flow.BadChecksum (dropped). The NDP handler also sends
// the one unsolicited router advertisement from its first Begin, which
// the engine runs before its first wait (counted as ra).
//
// New makes ARP always, and NDP, DHCP and DHCPv6 unless guest.Net
// switches them off (NoNDP, NoDHCP, NoDHCPv6); with a service off the
// engine drops its frames as "off", or hands DHCP and DHCPv6 datagrams to
// the UDP handler as passt does.
package linksvc
