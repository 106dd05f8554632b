// SPDX-License-Identifier: GPL-2.0-or-later

// Package engine is gopasst's event loop: one epoll set, one goroutine
// locked to its OS thread, frames from the guest dispatched to the
// protocol responders and handlers, frames to the guest batched out.
// It is passt's passt.c main loop with tap.c's frame dispatch.
//
// # Theory of operation
//
// New allocates everything the loop uses, once: the receive slab (Batch
// buffers of FrameSize bytes), the reply slab for the frames the engine
// builds itself, the output queue (references to frames, capacity 1024),
// the epoll event array, and the parsed-frame struct. Run locks its
// goroutine to the OS thread and loops; each turn is one wake-up:
//
//  1. epoll_pwait, with a timeout that ends at the next Tick (at most
//     flow.TickInterval), or zero when the device still holds frames.
//  2. The device (Ref kind flow.KindTap), before any other fd: on EPOLLOUT
//     finish a partially written frame (tap.Backlogger); on EPOLLIN read up
//     to 4 batches. Each frame is captured (pcap), parsed with
//     l2.Frame.Parse (IPv4 header checksum checked), and dispatched:
//     ARP → arp.Reply, wrapped in Ethernet back to the sender;
//     ICMPv6 133–137 → ndp.Handle, wrapped in IPv6 from n.OurLL6 with hop
//     limit 255 (to 33:33:… for a multicast destination);
//     UDP to port 67 over IPv4 → dhcp.Reply, in UDP 67→68 from the
//     gateway to the guest's address and MAC, or to broadcast;
//     UDP to port 547 over IPv6 → dhcpv6.Reply, in UDP from n.OurLL6:547
//     to the client's address:546;
//     ICMP/ICMPv6 echo requests → the ICMP handler (SetICMP);
//     TCP → the TCP handler (SetTCP); other UDP → the UDP handler (SetUDP).
//     The n.No* switches turn each of these off. A frame that is answered
//     or handed to a handler teaches the engine n.GuestMAC (its source MAC)
//     and n.GuestLL6 (an IPv6 link-local source); a dropped frame teaches
//     nothing, so stray frames cannot redirect the guest's traffic.
//  3. Every other ready fd goes to the Handler registered for its Ref.Kind
//     (Register), with the Ref unpacked from the epoll data: no lookup.
//  4. Tick on every handler, when due; then Deferred on every handler.
//  5. Flush: the output queue is written with one Device.WriteFrames
//     (which batches: one sendmsg for the stream, one write per frame for
//     the tap), the frames written are captured, the rest counted as
//     TapFull. Then the counters are published for Stats.
//
// At the start of Run one unsolicited router advertisement goes to all
// nodes, when IPv6, NDP and RAs are on.
//
// # Buffers and ownership
//
// Frames from the guest live in the receive slab only for the call that
// handles them: a TapHandler must copy what it keeps, and a reply must not
// point into them. Frames to the guest are given to Tap.Send, which keeps
// references, not copies: their bytes must stay untouched until the end of
// the wake-up (flow's contract). If the queue fills up, it is flushed on
// the spot; a handler out of buffers may also flush it itself (the Tap is a
// flow.Flusher) and then reuse everything it has sent. The engine's own replies are built in place in the reply slab
// (the responders write the payload after room for the headers, and the
// headers are written in front), so nothing is copied.
//
// Fragments: the guest's IPv4 and IPv6 fragments go to a frag.Reassembler
// (bounded: a fixed number of 64 KiB slots, a timeout); a completed
// datagram is parsed and dispatched like any frame, from the
// reassembler's buffer. A frame to the guest whose IP packet exceeds the
// MTU (guest.Net.MTU), and that may be fragmented (IPv4 without DF, IPv6
// without extension headers), is queued as fragments written into the
// reply slab (frag.Fragmenter); frags_out and reassembled count both.
//
// # Counters
//
// Stats counts frames and bytes in each direction, replies per service,
// frames handed to each handler, and every frame from the guest that is
// dropped, by reason (see DropReason): parse errors by class, fragments the reassembler refused,
// VLAN tags, unknown IP protocols, frames that need no answer (not_for_us),
// services switched off, UDP with no handler. Dropped is their sum, so a
// malformed frame is counted exactly once. Frames to the guest lost to a
// full device are TapFull, not Dropped.
//
// The stats line (Stats.Line) is logged every StatsEvery at info level and
// once when Run returns. Its format is stable, fields are only ever
// appended:
//
//	stats: frames_in=N frames_out=N bytes_in=N bytes_out=N dropped=N (truncated=N bad_l2=N ethertype=N bad_l3=N bad_l4=N bad_checksum=N fragment=N proto=N not_for_us=N off=N no_udp=N no_handler=N) tap_full=N arp=N ndp=N ra=N dhcp=N dhcpv6=N tcp=N udp=N icmp=N wakeups=N tcp_flows=N udp_flows=N icmp_flows=N flows=N flows_max=N frags_out=N reassembled=N
//
// # Allocation
//
// The steady-state path, from epoll_pwait to the reply written, allocates
// nothing (TestSteadyStateAllocs drives whole wake-ups with testing.
// AllocsPerRun). Drops are counted, never formatted, unless Config.Trace is
// set.
//
// # Concurrency
//
// Configure the engine (Register, SetTCP, SetUDP, SetICMP, Poller, Tap)
// before Run. After that every method except Stats belongs to Run's
// goroutine, like guest.Net, whose learned fields the engine writes.
// Stats returns a copy published at the end of each wake-up.
package engine
