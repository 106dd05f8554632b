// SPDX-License-Identifier: GPL-2.0-or-later

// Package icmp relays the guest's ICMP and ICMPv6 echo requests (ping)
// through the host kernel's unprivileged "ping" sockets and returns the
// replies to the guest, as passt's icmp.c does. No other ICMP message is
// relayed.
//
// # Theory of operation
//
// Handler is the flow.Handler of ICMP echo: New takes one Config (the
// engine's Poller and Tap, guest.Net, the shared flow.Budget, the logger
// that is told once when ping sockets cannot be opened); it claims the
// frame class flow.FrameEcho (echo requests, as the engine sorts them)
// and the epoll kind flow.KindPing.
//
// A ping socket is socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) or
// socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6). Any user whose group is in
// the sysctl net.ipv4.ping_group_range (which also governs IPv6) may open
// one. The socket sends ICMP messages without an IP header; the kernel
// owns the echo identifier: it assigns the socket an identifier of its
// own, overwrites the identifier of every request sent on it, computes the
// checksum, and delivers to it only the echo replies that carry that
// identifier. So each flow has its own socket, and the guest's identifier
// is put back into every reply (identifier mapping).
//
// A flow is keyed by (IP version, the guest's echo identifier, the
// address the guest pinged). The flow table is a flow.Table: a dense
// array of pointer-free entries with a fixed capacity (Config.Capacity,
// 1024 by default; a flow also takes a unit of the shared budget),
// indexed by an open-addressing hash table of indices (flow.Index) keyed
// with a per-handler random seed (so the guest cannot choose colliding
// keys). Each socket is registered with the
// engine's poller under flow.KindPing with the flow's index in the Ref.
// Closing a flow moves the last entry into the hole (passt compacts its
// flow table the same way) and re-registers that socket with its new
// index; HandleSock ignores events whose Ref no longer matches.
//
// Tap side (HandleTap): only echo requests with code 0, not fragments, to
// a unicast destination are relayed (not multicast, broadcast, loopback,
// unspecified, nor IPv6 link-local: the host has no interface to send
// those on). The destination is mapped with fwd.HostDestination: the
// --map-host-loopback address becomes 127.0.0.1 or ::1, the
// --map-guest-addr address becomes the host's own address. The first
// request of a flow opens its socket (bound to the -o outbound address
// when one is set); the message is then sent as is with one sendto(2). The
// guest's checksum is not verified: the kernel recomputes it. A request
// refreshes the flow's timer and records the guest's source address, which
// is where the replies go.
//
// Socket side (HandleSock): each datagram is read with recvfrom(2)
// straight into a frame buffer behind room for the Ethernet and IP
// headers. Only an echo reply whose source is the address the flow sends to
// is accepted. The guest's identifier is restored and the frame is built in
// place (Ethernet n.OurMAC → n.GuestMAC, IP source the address the guest
// pinged, destination the guest's address, TTL/hop limit 64, checksums) and
// handed to flow.Tap.Send. The handler owns ReplyBatch frame buffers; a
// buffer given to the tap is reused only after End, i.e. after the
// engine's end-of-wake-up flush (End frees them for the next wake-up). When they run out, the rest waits in the
// socket until the next wake-up (epoll is level-triggered).
//
// Timer (Tick): a flow with no echo request from the guest for Timeout
// (60 s, passt's ICMP_ECHO_TIMEOUT) is closed; the table is scanned at
// most once a second.
//
// Differences from passt: passt keys its (older) flows by identifier only
// and does not check the reply's source address; in pasta mode it also
// drops a reply whose sequence number repeats the previous one (its own
// echo looping back); we have not needed that.
//
// Flow policy: a request that would open a flow passes Config.Gate
// (package egress) with the real destination; refused, it opens no socket
// and is answered with destination unreachable, "administratively
// prohibited" (ICMP type 3 code 13, ICMPv6 type 1 code 1), quoting it.
// closeFlow reports the echo bytes each way.
//
// # Limits
//
// No allocation per echo: sockets are driven with raw bind/sendto/recvfrom
// calls and preallocated socket addresses (sock_unsafe.go); opening a flow
// allocates nothing either. Nothing here is safe for concurrent use: the
// handler belongs to the event-loop goroutine. A table-full, socket or
// send failure drops the request and is counted (Counts); Stats gives the
// engine flows, opens, refused (table or budget full), expired, replies
// and the drops by reason, on the stats line as icmp_opens=N and so on.
package icmp
