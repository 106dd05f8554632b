// SPDX-License-Identifier: GPL-2.0-or-later

// Package udp translates the guest's UDP datagrams to datagrams on host
// sockets and back, forwards -u (and pasta's -U) ports, redirects
// --dns-forward queries, and turns ICMP errors the host receives into
// ICMP errors for the guest, as passt's udp.c and udp_flow.c do.
//
// # Theory of operation
//
// Handler is the flow.Handler of UDP: New takes one Config (the engine's
// Poller and Tap, guest.Net, the shared flow.Budget, the -u and -U
// listeners, the logger); it claims the frame class flow.FrameUDP (every
// UDP datagram from the guest except DHCP and DHCPv6, which the engine
// gives to the link services while they are on) and the epoll kinds
// flow.KindUDP (flow sockets) and flow.KindUDPListen (listeners).
//
// Every datagram belongs to a flow. A guest-side flow is keyed by the
// tuple the guest sees: (IP version, the guest's address and port, the
// remote address and port). There are three kinds:
//
//   - Outbound (the guest sends first). HandleTap opens a socket for the
//     flow: IP_RECVERR on, SO_REUSEADDR, bound to the -o address and, when
//     it is free, to the guest's own source port (passt preserves it), and
//     connect()ed to the destination as fwd.HostDestination maps it
//     (--map-host-loopback to 127.0.0.1/::1, --map-guest-addr to the
//     host's address, --dns-forward port 53 to --dns-host). Being
//     connected, the socket receives only the peer's replies, which go to
//     the guest from the address and port the guest sent to: the reverse
//     mapping (fwd.GuestSourcePort) is implied by the flow's key.
//   - Inbound (-u). Listeners are bound in the host's namespace
//     (fwd.Listen: SO_REUSEADDR; dual-stack when the bind address is unspecified) and
//     registered as flow.KindUDPListen. A datagram from a client opens a
//     flow with no socket of its own: it goes to the guest from the
//     client's address (through fwd.InboundSource: a client on the
//     guest's own address, or an unmapped loopback one, appears from
//     MapHostLo or the gateway, so that the guest's reply comes back
//     to us) and port, to the guest's address (or the rule's) and the
//     target port. The guest's replies match the flow's key and leave
//     through the listener with sendto(2).
//   - Spliced (pasta -U). Listeners are bound inside the namespace (on
//     its loopback unless an address is given) with Config.NsSocket. A
//     datagram from a namespace client opens a flow with a socket in the
//     host's namespace connect()ed to the host's loopback (or the rule's
//     address) at the target port; replies go back through the listener.
//     No frame is involved. These flows have their own key space (client
//     address and port, listener index). The same path serves, the other
//     way, datagrams from the host's loopback to a -u listener without
//     a target address (pasta, Config.SpliceLoopback, unless
//     --no-splice): the flow's socket is opened inside the namespace
//     (Config.NsConnect: in pasta a netns.Pool, which makes them in
//     batches) and connect()ed to fwd.SpliceDestination (the
//     namespace's address, or its loopback with --host-lo-to-ns-lo), as
//     passt's fwd_nat_from_host() for PIF_SPLICE.
//
// Automatic forwarding (pasta's -u auto and -U auto, fwd.Auto): Opener
// opens and closes the listeners of one side at run time, in free slots
// of the listener table; closing one closes the flows that came in
// through it.
//
// Tap side (HandleTap): datagrams that are fragments (the engine hands
// over reassembled ones), have port 0, come
// from an address that cannot receive replies or go to the unspecified,
// loopback or limited broadcast address are dropped. Each datagram is
// copied into a staging area; consecutive datagrams of one flow leave
// with one sendmmsg(2) when a datagram of another flow arrives, or in
// End at the end of the wake-up. An error left pending on the socket
// by an earlier ICMP error fails one send; that send is retried once.
//
// Socket side (HandleSock): recvmmsg(2) reads a batch straight into frame
// buffers behind room for the headers; Ethernet (n.OurMAC to n.GuestMAC),
// IP (TTL 64, DF unless larger than the MTU) and UDP headers with checksums are written in front and
// the whole batch goes to flow.Tap.Send at once. The handler owns
// Config.Batch frame buffers; one handed to the tap is reused only after
// End, i.e. after the engine's flush. When they run out, the rest
// waits in the socket until the next wake-up (epoll is level-triggered).
//
// ICMP errors: with IP_RECVERR/IPV6_RECVERR, an ICMP error for a flow
// socket (port unreachable from a closed host port, host unreachable,
// time exceeded, fragmentation needed / packet too big) is queued on the
// socket's error queue and epoll reports EPOLLERR. HandleSock reads it
// with MSG_ERRQUEUE and sends the guest the same type and code, from the
// remote address the guest used (or from the offending router, mapped),
// quoting an IP header from the guest to that address, the UDP header
// with the guest's ports, and as much payload as the host's error quoted,
// within 576 bytes (RFC 1812) or 1280 (RFC 4443). A client in the guest
// thus sees ECONNREFUSED at once. Reading the queue also clears the
// socket's pending error.
//
// Listeners and flow sockets ask for 4 MiB receive and send buffers
// (capped by net.core.rmem_max and wmem_max), so that a burst arriving
// while the event loop is not scheduled waits in the socket instead of
// being dropped.
//
// The flow table is a flow.Table: a dense array of pointer-free entries
// with a fixed capacity (Config.Capacity, DefaultCapacity when zero; a
// flow also takes a unit of the shared budget), indexed by an
// open-addressing hash table of indices (flow.Index) whose
// hash has a per-handler random seed (so the guest cannot choose
// colliding keys). A flow socket's Ref carries the flow's index; closing
// a flow moves the last entry into the hole (as passt compacts its flow
// table) and re-registers its socket with the new index. HandleSock
// ignores a Ref whose fd no longer matches.
//
// # Flows and timeouts
//
// A flow lives until it has been idle, in both directions, for Timeout
// (30 s, nf_conntrack_udp_timeout) or, once datagrams went both ways, for
// StreamTimeout (120 s, nf_conntrack_udp_timeout_stream); both are read
// from those sysctls when present, as passt does. Tick scans the table at
// most once a second and closes expired flows with their sockets.
//
// # Flow policy
//
// A datagram that would open a flow towards the host (flowOut, and -U
// splice flows) passes Config.Gate (package egress) with the real
// destination: after HostDestination, so a DNS query to the --dns-forward
// address is judged by the resolver it goes to. Refused, it opens nothing:
// a guest datagram is answered with ICMP or ICMPv6 destination
// unreachable, "administratively prohibited", quoting it (refuse.go); a
// -U client's datagram is dropped. Flows from -u clients are inbound: the
// gate logs them only. closeFlow reports each flow's payload bytes each
// way.
//
// # Counters
//
// The handler counts into Counts (flows opened and expired, datagrams
// each way, ICMP errors, drops by reason); Stats gives the engine flows,
// opens, refused (table or budget full, flow policy), expired, icmp_errors, no_buffer
// and the drops by reason, on the stats line as udp_opens=N and so on.
//
// # Limits
//
// No allocation per datagram in either direction, nor per new flow: the
// sockets are driven with raw bind/connect/sendmmsg/recvmmsg/recvmsg
// calls on preallocated headers and addresses (sock_unsafe.go); listener
// setup in New allocates. Nothing is safe for concurrent use: the handler
// belongs to the event-loop goroutine.
//
// Replies to a -u client leave through the listener with the kernel's
// choice of source address, which differs from the address the client
// used only on multi-homed hosts with a wildcard bind (passt binds a
// reply socket per flow instead). Spliced flows from the host's loopback
// do not keep the client's source port (passt binds it). Multicast
// destinations are sent,
// but replies from unicast addresses do not match the connected socket.
// IPv4 options and IPv6 extension headers of the guest are not
// reproduced in ICMP quotes. Datagrams larger than the MTU are
// fragmented by the engine, and the guest's fragments reassembled there
// (package frag).
package udp
