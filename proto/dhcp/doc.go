// SPDX-License-Identifier: GPL-2.0-or-later

// Package dhcp is a single-lease DHCPv4 server: it answers the guest's
// DHCP messages with the one address guest.Net holds for it. It is the
// counterpart of passt's dhcp.c.
//
// # Theory of operation
//
// Handler is the flow.Handler of DHCP: the engine hands it every UDP
// datagram the guest sends over IPv4 to port 67 (the frame class
// flow.FrameDHCP; no fds). HandleTap drops a datagram whose UDP checksum
// is wrong (flow.BadChecksum), then hands Reply the UDP payload and one of
// its flow.ReplySlots; Reply writes the answer there, and the handler
// wraps it with l2.BuildUDP4 in UDP (67 → 68, with its checksum: busybox
// udhcpc drops replies without a correct one), IPv4 (from the gateway
// address, which is also the server identifier) and Ethernet, to the
// guest's address and MAC or to broadcast, and returns flow.Accept; a
// message that needs no answer is flow.NotForUs. Stats counts replies.
// The package does no I/O of its own, keeps no state between calls and
// allocates nothing: like passt, it has exactly
// one lease to give, n.V4.Addr, with an infinite lifetime, so there is no
// lease table to keep.
//
// Message is a view over the BOOTP header (RFC 2131 §2, RFC 951) and
// Options an iterator over the options field (RFC 2132 §2). A request is
// parsed in one bounded walk: the options field, then, if option 52 says so,
// the file and sname fields (RFC 2131 §4.1). What is answered:
//
//   - DHCPDISCOVER → DHCPOFFER (RFC 2131 §4.3.1), or DHCPACK carrying
//     option 80 when the client offers Rapid Commit (RFC 4039 §4).
//   - DHCPREQUEST → DHCPACK (§4.3.2). When the address the client asks for
//     (option 50 in SELECTING and INIT-REBOOT, ciaddr in RENEWING and
//     REBINDING) is not the guest's, DHCPNAK, broadcast. A request whose
//     server identifier (option 54) is not ours chose another server and is
//     not answered.
//   - DHCPINFORM → DHCPACK without yiaddr and without lease time (§4.3.5).
//   - A BOOTREQUEST without option 53 is plain BOOTP and gets a DHCPACK, as
//     passt does.
//
// Dropped (Reply returns ok=false; the caller counts): DHCPRELEASE and
// DHCPDECLINE (nothing to free, nothing else to offer), server messages,
// anything short of the fixed header and magic cookie, hlen over 16, options
// that run past their field, options 50, 52, 53, 54, 57 and 81 with a wrong
// length, and everything when n.NoDHCP is set or IPv4 is off.
//
// Replies copy xid, flags, giaddr, htype, hlen and chaddr from the request
// (table 3 of RFC 2131) and carry option 53 first, as passt does for clients
// such as wattcp32 and mTCP that look for it there. Then come the options of
// the parameter request list (55) in the client's order, then all others in
// ascending order:
//
//	 1 subnet mask           from n.V4.PrefixLen
//	 3 router                n.V4.Gateway
//	 6 domain name servers   n.V4.DNS (IPv4 ones, at most 16), omitted if none
//	12 host name             n.Hostname, omitted if empty
//	15 domain name           the first valid entry of n.Search
//	26 interface MTU         n.MTU, omitted when 0 or outside 68..65535
//	51 lease time            0xffffffff, infinite (not in replies to INFORM)
//	54 server identifier     n.V4.Gateway (busybox udhcpc and dhclient need it)
//	61 client identifier     echoed when the client sent one (RFC 6842)
//	80 rapid commit          empty, in the ACK that answers a DISCOVER
//	81 client FQDN           n.FQDN (RFC 4702): flags E (wire form; ASCII if
//	                         the client cleared E), RCODE1 = RCODE2 = 255
//	119 domain search        n.Search in DNS wire form with RFC 1035
//	                         compression (RFC 3397), split over several
//	                         options when longer than 255 bytes (RFC 3396)
//	                         (names encoded by proto/dnsname)
//	121 classless routes     only when the gateway is outside the guest's
//	                         subnet: gateway/32 on-link, then 0/0 via the
//	                         gateway (RFC 3442), as passt
//
// A DHCPNAK carries only 53, 54 and 61.
//
// # Limits
//
// A reply is at most 548 bytes (a 576-byte IP datagram, which every client
// must accept; busybox udhcpc drops larger ones unless asked), unless the
// client announces more with option 57; never more than MaxReplySize or the
// guest's MTU allows. Replies shorter than 300 bytes are zero-padded to the
// BOOTP minimum (RFC 1542 §2.1), as passt pads them. When space runs short
// the essential options (54, 51, 1, 3, 121, 80, 26, 6, 61) keep their room
// and the others (12, 15, 81, 119) are left out whole, never truncated.
// Repeated options in a request are not concatenated (RFC 3396): the first
// instance counts. Relayed requests are answered like direct ones, with
// giaddr copied; the event loop decides where the reply goes.
package dhcp
