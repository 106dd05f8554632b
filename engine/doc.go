// SPDX-License-Identifier: GPL-2.0-or-later

// Package engine is gopasst's event loop: one epoll set, one goroutine
// locked to its OS thread, frames from the guest sorted and handed to the
// handlers, frames to the guest batched out. It is passt's passt.c main
// loop with tap.c's frame dispatch. The engine speaks no protocol itself:
// ARP, NDP, DHCP and DHCPv6 (proto/linksvc), TCP, UDP, ICMP echo, the
// spliced TCP relay and pasta's auto-forwarding scanner are all
// flow.Handlers, given to it with Add.
//
// # Theory of operation
//
// New allocates everything the loop uses, once: the receive slab (Batch
// buffers of FrameSize bytes), the output queue (references to frames,
// capacity 1024), the epoll event array, and the parsed-frame struct.
// Add takes each handler's flow.Claim: the epoll kinds it owns, the frame
// classes it takes, its name and counters for the stats line. Run locks
// its goroutine to the OS thread, runs wake-up zero (Begin and End on
// every handler, without events: the NDP handler's unsolicited router
// advertisement goes out), and loops; each turn is one wake-up:
//
//  1. epoll_pwait, with a timeout that ends at the next Tick (or stats
//     line), or zero when the device still holds frames. The next Tick
//     is a flow.TickInterval after the last one, unless every handler is
//     a flow.Sleeper: then it is the earliest timer they name, at most a
//     flow.IdleTickInterval on, and a wake-up with events brings it back
//     to a TickInterval. An idle engine wakes once a second.
//     In the daemons (Config.Dedicated, one P) it is a raw system call,
//     and the loop yields to the runtime once a tick: see epollWait for
//     what the runtime otherwise does at every wait.
//  2. Begin on every handler, in the order of Add.
//  3. The device (Ref kind flow.KindTap), before any other fd: on EPOLLOUT
//     finish a partially written frame (tap.Backlogger); on EPOLLIN read up
//     to 4 batches. Each frame is captured (pcap), parsed with
//     l2.Frame.Parse (IPv4 header checksum checked), sorted into a
//     flow.FrameClass and handed to the handler that claimed the class:
//     ARP → FrameARP;
//     ICMPv6 133–137 → FrameNDP;
//     UDP to port 67 over IPv4 → FrameDHCP (unless n.NoDHCP);
//     UDP to port 547 over IPv6 → FrameDHCPv6 (unless n.NoDHCPv6);
//     other UDP → FrameUDP; TCP → FrameTCP;
//     ICMP echo request, ICMPv6 echo request → FrameEcho.
//     Fragments, VLAN tags, other IP protocols and other ICMP types are
//     dropped here. The n.No* switches (NoTCP, NoUDP, NoICMP, NoNDP) drop
//     their classes as "off". Before the call the engine learns n.GuestMAC
//     (the frame's source MAC) and n.GuestLL6 (an IPv6 link-local
//     source), so a TCP reset or a reply goes to the sender; when the
//     handler's verdict is not flow.Accept both are put back, so stray
//     frames cannot redirect the guest's traffic. After each batch,
//     EndBatch on every flow.Batcher (the TCP handler writes the payloads
//     it gathered), before the next batch overwrites the buffers.
//  4. Every other ready fd goes to the handler that claimed its Ref.Kind,
//     with the Ref unpacked from the epoll data: no lookup. An fd of a
//     kind nobody owns is removed from the set.
//  5. Tick on every handler, when due; then End on every handler.
//  6. Flush: the output queue is written with one Device.WriteFrames
//     (which batches: one sendmsg for the stream, one write per frame for
//     the tap), the frames written are captured, the rest counted as
//     TapFull. Then the counters are published for Stats; after a Tick,
//     the handlers' and the device's too.
//
// # Buffers and ownership
//
// Frames from the guest live in the receive slab only for the call that
// handles them: a handler must copy what it keeps. Frames to the guest
// are given to Tap.Send, which keeps references, not copies: their bytes
// must stay untouched until the flush that follows End (flow's contract).
// If the queue fills up, it is flushed on the spot; a handler out of
// buffers may also flush it itself (the Tap is a flow.Flusher) and then
// reuse everything it has sent.
//
// Fragments: the guest's IPv4 and IPv6 fragments go to a frag.Reassembler
// (bounded: a fixed number of 64 KiB slots, a timeout); a completed
// datagram is parsed and dispatched like any frame, from the
// reassembler's buffer. A frame to the guest whose IP packet exceeds the
// MTU (guest.Net.MTU), and that may be fragmented (IPv4 without DF, IPv6
// without extension headers), is queued as fragments written into the
// engine's fragment slab (frag.Fragmenter), free again after each flush;
// frags_out and reassembled count both, and frags_held the fragments
// waiting for the rest of their datagram.
//
// # Counters
//
// Stats counts frames and bytes in each direction, frames each handler
// accepted per class, and every frame from the guest that is dropped, by
// reason (see DropReason): parse errors by class, fragments the
// reassembler refused, VLAN tags,
// unknown IP protocols, frames that need no answer (not_for_us, the
// flow.NotForUs verdict), wrong UDP checksums on DHCP and DHCPv6
// (bad_checksum, flow.BadChecksum), services switched off, classes no
// handler took. Dropped is their sum, so a malformed frame is counted
// exactly once. Frames to the guest lost to a full device are TapFull,
// not Dropped. Then the device's own counters (tap.Counted) and, for
// each handler, the flow.Stats it reports.
//
// The stats line (Stats.Line) is logged every StatsEvery at info level and
// once when Run returns. Its format is stable, fields are only ever
// appended, and every name is unique (tools parse it with
// `(\w+)=(\d+)`):
//
//	stats: frames_in=N frames_out=N bytes_in=N bytes_out=N dropped=N (truncated=N bad_l2=N ethertype=N bad_l3=N bad_l4=N bad_checksum=N fragment=N proto=N not_for_us=N off=N no_udp=N no_handler=N) tap_full=N arp=N ndp=N ra=N dhcp=N dhcpv6=N tcp=N udp=N icmp=N wakeups=N tcp_flows=N udp_flows=N icmp_flows=N flows=N flows_max=N tap_write_errors=N tap_unframable=N tap_partial_writes=N tap_ring_errors=N tap_too_long=N tap_held=N denied_tcp=N ... audit_dropped=N frags_out=N reassembled=N frags_held=N tap_gso_in=N tap_gso_out=N tap_csum_done=N tap_bad_segments=N reclaims=N arp_replies=N ... tcp_opens=N tcp_refused=N tcp_rst=N tcp_retrans=N tcp_ooo=N tcp_short_writes=N tcp_timeouts=N ... udp_opens=N ... icmp_opens=N ...
//
// # Memory
//
// After a burst of flows the handlers shrink their tables (the TCP
// handler halves its own while an eighth is in use); when the flows of
// the shared budget have fallen to a quarter of their peak (at least 256;
// then at each further quarter until none is left) the engine runs a
// garbage collection and returns the free pages at once
// (debug.FreeOSMemory, at a Tick, at most once a second; reclaims on the
// stats line): an idle engine allocates nothing, so without it
// the old tables would stay resident for minutes.
//
// # Allocation
//
// The steady-state path, from epoll_pwait to the reply written, allocates
// nothing (TestSteadyStateAllocs drives whole wake-ups with testing.
// AllocsPerRun). Drops are counted, never formatted, unless Config.Trace is
// set. Handlers' Stats are read once per Tick, and the line is formatted
// only when it is logged.
//
// # Concurrency
//
// Add every handler before Run. After that every method except Stats
// belongs to Run's goroutine, like guest.Net, whose learned fields the
// engine writes. Stats returns a copy published at the end of each
// wake-up (the handlers' counters as of the last Tick).
package engine
