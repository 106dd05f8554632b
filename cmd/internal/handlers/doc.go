// SPDX-License-Identifier: GPL-2.0-or-later

// Package handlers builds the handlers that passt and pasta add to their
// engine, so that both commands make them the same way.
//
// # Theory of operation
//
// Every protocol is a flow.Handler made from one Config and given to the
// engine with engine.Add, which reads what it claims (epoll kinds, frame
// classes). Add makes, in this order: the link services (proto/linksvc:
// ARP, and NDP, DHCP, DHCPv6 unless guest.Net switches them off), which
// own no fd and answer frames from the guest; then TCP (proto/tcp, with
// the -t listeners on the host), UDP (proto/udp, with the -u listeners)
// and ICMP echo (proto/icmp), each unless guest.Net's NoTCP, NoUDP,
// NoICMP says otherwise, which own sockets in the epoll set, take frames
// from the guest, and share the flow budget. pasta also passes a way to
// open sockets inside the guest's namespace: then the -U listeners are
// opened there, and unless splicing is off the -T ones too, relayed
// socket to socket to the host's loopback by proto/splice (no frames).
// pasta adds its auto-forwarding scanner (fwd.Auto) itself. If one
// handler cannot be made or added, those made so far are closed and Add
// fails. Set keeps the handlers that hold sockets, for Close and for the
// scanner.
package handlers
