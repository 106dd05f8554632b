// SPDX-License-Identifier: GPL-2.0-or-later

// Package handlers builds the L4 protocol handlers that passt and pasta
// plug into their engine, so that both commands make them the same way.
//
// # Theory of operation
//
// The engine answers ARP, NDP, DHCP and DHCPv6 itself; TCP, UDP and ICMP
// echo are handlers (proto/tcp, proto/udp, proto/icmp) that own sockets
// in the epoll set and take frames from the guest. Add makes each one the
// guest is allowed (guest.Net's NoTCP, NoUDP, NoICMP), in a fixed order,
// with the -t and -u listeners on the host and the shared flow budget,
// registers its kinds with the engine and makes it the engine's tap-side
// handler for its protocol. pasta also passes a way to open sockets inside
// the guest's namespace: then the -U listeners are opened there, and
// unless splicing is off the -T ones too, relayed socket to socket to the
// host's loopback (proto/splice). If one handler cannot be made, those
// made so far are closed and Add fails.
package handlers
