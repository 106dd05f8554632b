// SPDX-License-Identifier: GPL-2.0-or-later

// Package ndp is the Neighbor Discovery responder (RFC 4861, SLAAC per
// RFC 4862, DNS options per RFC 8106) that makes gopasst the guest's only
// IPv6 router and neighbour, as passt's ndp.c does.
//
// # Theory of operation
//
// Handler is the flow.Handler of NDP: the engine hands it every ICMPv6
// message of type 133–137 from the guest (the frame class flow.FrameNDP;
// no fds). HandleTap calls Handle with the IPv6 source, destination and
// hop limit. Handle validates the message (RFC 4861 §6.1.1 and §7.1.1),
// decides whether to answer, and writes the reply ICMPv6 message,
// checksum included, into a buffer the caller owns (one of the handler's
// flow.ReplySlots). The handler wraps it in IPv6 (source n.OurLL6, the
// returned destination, hop limit 255, next header 58) and Ethernet
// (source n.OurMAC, to the solicitation's source MAC, or 33:33:… for a
// multicast destination) and returns flow.Accept; a message that needs no
// answer, or fails validation, is flow.NotForUs (the engine's not_for_us
// drop). Nothing is kept between calls; learning the guest's addresses
// from what it sends is the engine's job.
//
// Validation, for every message: hop limit 255 (so the message cannot have
// come through a router), code 0, a correct ICMPv6 checksum, the minimum
// length of its type, and an options area in which every option has a
// non-zero length that fits. Router solicitations from :: must not carry a
// source link-layer address option; neighbor solicitations from :: must be
// sent to a solicited-node multicast address and carry no such option, and
// the target must not be multicast. Anything else is dropped silently.
//
// Router solicitation → router advertisement, unless n.NoRA or n.NoNDP, or
// IPv6 is off. It goes to the soliciting address, or to all-nodes ff02::1
// when the solicitation came from :: (RFC 4861 §6.2.6; passt replies to the
// source whatever it is). Its fields, in passt's order:
//
//   - cur hop limit 255; flags: M (managed) when DHCPv6 is on (!n.NoDHCPv6),
//     O clear (with M set it is redundant, RFC 4861 §4.2). passt sets M
//     unconditionally; we clear it with --no-dhcpv6 so that the guest does
//     not run a DHCPv6 client against nobody.
//   - router lifetime 65535 s (the maximum, RFC 8319), reachable time and
//     retransmission timer 0 (unspecified).
//   - prefix information: n.V6.Addr's /64, flags L and A (on-link, SLAAC),
//     valid and preferred lifetimes infinite (0xffffffff). /64 whatever
//     n.V6.PrefixLen says, as in passt: SLAAC needs a 64-bit interface ID.
//   - source link-layer address: n.OurMAC.
//   - MTU n.MTU, when n.MTU is at least 1280 (the IPv6 minimum; 0 means
//     "do not advertise", as in passt, and smaller values are not valid).
//   - RDNSS (25): the IPv6 addresses in n.V6.DNS, lifetime infinite.
//   - DNSSL (31): n.Search in DNS wire format, lifetime infinite. passt
//     only sends DNSSL together with RDNSS; we send it whenever there is a
//     search list, as RFC 8106 allows. Names that cannot be encoded (empty
//     labels, labels over 63 bytes, names over 255 bytes) are skipped;
//     proto/dnsname writes them.
//
// Options that do not fit in the caller's buffer are left out (RDNSS keeps
// the addresses that fit); MaxMessageSize always holds everything passt
// could send.
//
// Neighbor solicitation → neighbor advertisement with the R, S and O flags
// (we are a router; the answer is solicited; it overrides cached entries)
// and a target link-layer address option n.OurMAC, sent to the
// solicitation's source. We answer for every target except the guest's own
// addresses (n.V6.Addr, n.GuestLL6, and the solicitation's own source, which
// the guest evidently holds). A solicitation from :: is duplicate address
// detection (RFC 4862 §5.4.2): the guest is about to claim the target, and
// answering would make it give the address up. We therefore answer such a
// probe only when the target is n.OurLL6, the one address we really use on
// the link, and then to all-nodes with S clear (RFC 4861 §7.2.4). passt
// ignores every solicitation from ::.
//
// Router and neighbor advertisements and redirects from the guest are
// ignored.
//
// RouterAdvertisement builds the same advertisement for unsolicited use:
// the handler's first Begin, which the engine runs before it first waits,
// sends it to ff02::1 once (passt repeats it every 200 to 600 s, RFC 4861
// §6.2.1; gopasst does not). Stats counts replies and unsolicited RAs
// (ndp_replies, ndp_unsolicited; the engine's ra field is the latter).
//
// Handle, RouterAdvertisement and Handler allocate nothing and never
// panic on any input; they are not safe for concurrent use with writers
// of n.
package ndp
