// SPDX-License-Identifier: GPL-2.0-or-later

// Package arp answers the guest's ARP requests (RFC 826) as passt's arp.c
// does: gopasst stands in for every IPv4 address on the link except the
// guest's own.
//
// # Theory of operation
//
// The guest sees a single neighbour, us, behind the MAC address n.OurMAC:
// the gateway, the resolvers, every host on its subnet and the mapped
// addresses all live on the other side of the socket translation. So any
// ARP request is answered with n.OurMAC, except in the cases where an answer
// would be wrong (all mirror passt arp()):
//
//   - Not a request, or not Ethernet/IPv4 (hardware type 1, protocol
//     0x0800, lengths 6 and 4): ignored.
//   - A gratuitous ARP (announcement): sender IP not 0.0.0.0 and equal to
//     the target IP. The guest announces its own address; answering would
//     claim the guest's address. Ignored.
//   - The target is the guest's own address n.V4.Addr. This also covers the
//     guest's duplicate address detection probes (RFC 5227: sender IP
//     0.0.0.0, target = the address it is about to use), which must go
//     unanswered for the guest to configure its address. Ignored.
//   - The target is 0.0.0.0 (not an address anyone can hold; passt would
//     answer, we do not). Ignored.
//   - IPv4 is disabled for the guest (n.HasV4 false). Ignored.
//
// A probe (sender IP 0.0.0.0) for any other address is answered: we do
// hold every other address, and RFC 5227 wants the prober to learn that the
// address is in use.
//
// The reply, written into out, is op=reply, sender = (n.OurMAC, requested
// IP), target = (requester's MAC, requester's IP) — for a probe the target
// IP is therefore 0.0.0.0, as in passt. req and out may be the same buffer
// (reply in place).
//
// Handler is the flow.Handler of ARP (the frame class flow.FrameARP; no
// fds): New takes a Config of guest.Net and the engine's Tap. HandleTap
// calls Reply into one of its flow.ReplySlots, writes an Ethernet header
// addressed to the requester's MAC from n.OurMAC in front, sends it and
// returns flow.Accept; a request that needs no answer is flow.NotForUs,
// which the engine counts as a drop (not_for_us). Its Stats counts
// replies (arp_replies on the stats line).
//
// Reply and Handler allocate nothing and never panic on any input.
package arp
