// SPDX-License-Identifier: GPL-2.0-or-later

// Package tcp translates the guest's TCP segments to host kernel TCP
// sockets and back, without a TCP stack of its own: the design of passt's
// tcp.c ("avoiding a complete TCP stack reimplementation"), in Go.
//
// # Theory of operation
//
// Handler is the flow.Handler of TCP: New takes one Config (the engine's
// Poller and Tap, guest.Net, the shared flow.Budget, the -t listeners,
// the logger); it claims the frame class flow.FrameTCP and the epoll
// kinds flow.KindTCP (connection sockets) and flow.KindTCPListen (-t
// listeners). The engine hands it every TCP segment from the guest
// (HandleTap, tap.go) and every event of those sockets (HandleSock,
// sock.go), between Begin and End of each wake-up.
//
// Each connection pairs the guest's side, seen as frames, with one
// non-blocking host socket. Two kernels do the real work (congestion
// control, segmentation, reassembly); the handler mirrors what it sees on
// one side onto the other:
//
//   - Guest SYN (outbound): a socket is created (TCP_MAXSEG from the SYN's
//     MSS where TCP_MAXSEG takes it, up to 32767; a larger one leaves the
//     route's MSS, not halved to 32767), a large SO_SNDBUF, TCP_NODELAY,
//     SO_PEEK_OFF) and connected to
//     fwd.HostDestination of the destination. SYN+ACK goes to the
//     guest once the socket is connected (EPOLLOUT); RST if it fails.
//   - Accepted connection (inbound, -t, on a listener fwd.Listen opened):
//     fwd.Accept into a preallocated raw address; SYN to the guest from
//     fwd.GuestSource(client address) with the client's port kept, to the guest's address and the forwarded port.
//   - Host → guest: data stays in the socket's receive queue until the
//     guest acknowledges it. On EPOLLIN (edge-triggered) the handler peeks
//     (MSG_PEEK with SO_PEEK_OFF, so each peek starts past the bytes
//     already sent) into up to batchFrames preallocated MSS-sized frames,
//     never past the guest's window, writes the headers from a
//     per-connection l2.TCPTemplate and hands the batch to flow.Tap in one
//     Send. When the Tap is a flow.Segmenter with a MaxSegment above the
//     MTU (pasta's tap with offloads), a frame holds instead as many whole
//     MSS-sized segments as fit in a 64 KiB IP packet, whatever the MTU,
//     its checksum is only the pseudo-header sum (TCPTemplate.
//     WritePartial: no pass over the payload) and the batch goes to
//     SendSegments with the guest's MSS, which its kernel sees as the
//     segment size (vhost-user's MaxSegment is the MTU: it takes partial
//     checksums, not larger segments). passt's stream keeps MSS-sized
//     frames with full checksums. When the Tap is also a flow.Lender
//     that lends now (vhost-user with GUEST_CSUM, no capture, nothing
//     held back), the peek goes straight into the guest's receive
//     buffers instead (sendLent: no frame buffer, no copy): the tap
//     lends iovecs for up to batchFrames frames, the headers are
//     written with TCPTemplate.WriteHeaders into a small buffer that
//     Commit copies in front of each frame's payload, the frames that
//     got data are committed and the rest given back; sequence and
//     window bookkeeping is the copy path's (sent), and a loan of
//     nothing falls back to it. When the frames of the wake-up run out, the tap is flushed on
//     the spot (flow.Flusher) and the same buffers are used again, up to
//     maxPeeks batches per connection and call. A guest ACK drops the acknowledged bytes from the socket
//     (recv with MSG_TRUNC: no copy). There is no retransmission queue:
//     a retransmission is a re-peek from the acknowledged sequence, after
//     two duplicate ACKs or an ACK timeout. Without SO_PEEK_OFF (kernels
//     before 6.10), the peek starts at 0 and the bytes already sent land
//     in a discard buffer of discardWindow (2 MiB), which bounds what is
//     in flight to the guest whatever its window; a peek waits until at
//     most half of it is in flight, so it copies no more old bytes than
//     it may send new ones (unbounded, each 64 KiB sent could cost a
//     copy of megabytes). A peek that returns no more than the bytes in
//     flight is not the end of file (it cannot be told from the head):
//     after RDHUP, the peek that follows the guest's last ACK returns 0
//     and the FIN goes. GOPASST_PEEK_OFFSET=off (PeekOffsetEnv) takes
//     this path on newer kernels too, for the tests.
//   - Guest → host: in-sequence data is written to the socket at once
//     (a segment may be larger than the MTU: with tap offloads the
//     guest's kernel sends up to 64 KiB at a time) and
//     acknowledged in End (one ACK per connection and wake-up). (ACKs sent in the middle of a wake-up, with a tap flush,
//     after every 256 KiB were tried and cost 20-40% of the throughput:
//     each one makes the guest's kernel transmit from our context.)
//     Only bytes the socket took are acknowledged. A segment below the
//     window without data (a zero-window probe, a keep-alive) is answered
//     with an ACK at once, so a lost window update is recovered.
//   - Sockets whose peer is on this host (loopback or the host's own
//     address) are moved from BBR to reno (localCC): BBR's pacing timer
//     sends from another CPU than our send(), loopback then reorders, and
//     the spurious retransmissions cost about 40% of the throughput.
//   - FIN from the guest → shutdown(SHUT_WR); EOF on the socket (a peek
//     that returns 0) → FIN to the guest after the data. RST either way
//     closes the other side with a reset (SO_LINGER 0).
//
// The C pasta stalls for seconds on the namespace → host path: it ACKs the
// guest's data once sendmsg() has queued it and advertises the host peer's
// receive window, so a short write on a send buffer that autotuning left
// small (or a full tun ring at MTU 1500) loses data the guest believes
// delivered, and its receiver logic turns the loss into long stalls. That
// cannot happen here in the same way, because of three rules:
//
//  1. The window advertised to the guest is the free space of the host
//     socket's send buffer, read for every ACK: three quarters of
//     SO_SNDBUF minus the memory its queue takes (SO_MEMINFO; data is
//     appended to buffers of up to 64 KiB, so the overhead is a few
//     percent), or, where SO_MEMINFO fails, SO_SNDBUF/2 minus SIOCOUTQ. Each
//     socket asks for a 32 MiB SO_SNDBUF (SO_SNDBUFFORCE, else SO_SNDBUF,
//     capped by net.core.wmem_max) instead of relying on autotuning that
//     starts at 16 KiB. The right edge of the window then never moves left,
//     and everything the guest may send fits.
//  2. If a write is short all the same, only the bytes written are
//     acknowledged; the rest is never reported as received, the guest
//     retransmits it, and EPOLLOUT brings a window update when the socket
//     drains (also polled every ackInterval while the window is low).
//     Every ACK with a low window (under what the socket has when the
//     kernel next reports it writable) re-arms EPOLLOUT with epoll_ctl: it
//     is edge-triggered, and TCP signals write space only after the socket
//     was seen full, which the writes our windows allow never make it.
//     Without that, the guest sat at the window's edge until the ACK timer
//     (checkLowWindow).
//  3. Every out-of-order or old segment gets an immediate duplicate ACK,
//     so the guest reaches its duplicate-ACK threshold and fast-retransmits
//     instead of waiting for an RTO.
//
// # Writes to the socket
//
// The in-sequence payloads of consecutive segments of one connection in
// a batch of frames from the guest are gathered (writeq.go) and written
// with one sendmsg when the batch ends (the handler is a flow.Batcher,
// and the engine calls EndBatch before it reads the next batch into the
// same buffers), when a segment of another connection comes, or when 64
// are gathered. The sequence expected from the guest moves at once, so
// the order checks above see the gathered bytes; every path that tells
// the guest that sequence (sendCtl, ackNow, the data frames of
// sockToTap), and End and Tick, writes what was gathered first, and a
// write that comes up short moves the sequence back over what the socket
// did not take before anything acknowledged it, as rule 2 says. A FIN is
// passed on only after its data was written in full.
//
// The table (table.go) is a dense array, compacted in End by moving the
// last connection into a freed slot and re-pointing its epoll reference,
// and an open-addressing hash (flow.Index) with a per-process random seed
// keyed by both ends. It starts at 256 connections and doubles when full
// (an allocation per doubling, none per connection), up to
// Config.Capacity: by default the size of the shared flow.Budget (131071,
// passt's FLOW_MAX), which a connection also takes a unit of, so the
// engine's flows_max is the limit. Frames towards the guest come from a
// slab allocated once; flow.Tap may keep a frame until the engine's flush
// after End, so a buffer is used once per wake-up (Begin frees them all)
// unless the tap is flushed (flow.Flusher: then all are free again); a
// connection that runs out of frames when the tap cannot take more is
// retried in the next Begin.
//
// # Events and states
//
// A connection holds a set of events (conn.go); the TCP state is implied
// and named only for logs:
//
//	SOCK_ACCEPTED     accepted on a listener, SYN sent to the guest      (SYN_SENT)
//	TAP_SYN_RCVD      the guest sent SYN, the socket is connecting       (SYN_RCVD)
//	TAP_SYN_ACK_SENT  SYN+ACK sent to the guest
//	ESTABLISHED       both sides up
//	SOCK_FIN_RCVD     EOF on the socket
//	SOCK_FIN_SENT     shutdown(SHUT_WR) done after the guest's FIN
//	TAP_FIN_RCVD      the guest's FIN, in sequence                       (CLOSE_WAIT)
//	TAP_FIN_SENT      our FIN sent to the guest                          (FIN_WAIT_1)
//	TAP_FIN_ACKED     the guest acknowledged our FIN                     (FIN_WAIT_2)
//
// Setting one of SOCK_ACCEPTED, TAP_SYN_RCVD, ESTABLISHED clears the other
// two; no events means closed. A connection is closed (gracefully) when
// TAP_FIN_RCVD and TAP_FIN_ACKED are both set. Flags beside the events:
// STALLED (the guest's window is full), SOCK_READABLE (the socket may hold
// data not yet sent), ACK_TO_TAP_DUE, POLLOUT, ZERO_WND_TO_TAP (the window
// we advertised is low: watch for write space), RECOVERING (rewound on
// duplicate ACKs: no second rewind until the ACK advances), FIN_QUEUED,
// ACTIVE_CLOSE, PENDING (ran out of frames), DIRTY.
//
// Operations per event: Begin frees the frames and retries the pending
// connections, HandleTap (tap.go) for frames, HandleSock (sock.go) for
// epoll events, Tick (timer.go) for timeouts, End for the ACKs due and
// the table compaction. Caveats: indices are stable
// only within a wake-up; HandleSock checks the fd of its Ref against the
// slot, so a stale event for a closed connection is ignored.
//
// # Timers
//
// There is no timerfd per connection. Each connection has one deadline,
// derived from its events and flags (timerFor), and the handler keeps the
// earliest one; Tick, called by the engine every flow.TickInterval, returns
// at once until that time, then scans the dense table once. A scan of the
// whole table was chosen over a timer wheel: it needs no extra structure to
// fix up on compaction, costs nothing while nothing is due, and the
// deadlines that fire often (ACK timeouts, 2 s) are far apart.
//
//	SYN_TIMEOUT   10 s    handshake not done: reset (SYN or SYN+ACK resent every 2 s)
//	ACK_TIMEOUT    2 s    data in flight, no ACK: rewind and resend; reset after 7 in a row
//	ACK_INTERVAL  50 ms   an ACK is due or our window is low: send a window update if it grew
//	               2 s    the guest's window is zero with data waiting: one-byte probe
//	FIN_TIMEOUT   60 s    half-closed and idle: reset
//	ACT_TIMEOUT 7200 s    idle: reset
//
// # Limits
//
// SACK and timestamps are not offered: the SYN and SYN+ACK carry MSS and
// window scale only. Offering SACK-permitted would promise SACK blocks for
// data we hold out of order, and this translator holds none (it writes
// data to the socket at once and drops what is out of order). Timestamps
// would have to be generated and echoed on every frame in both directions
// and their RTT samples would describe the translator, not the path. The
// stall they cure in pasta is instead avoided by rules 1-3 above; a
// bounded out-of-order queue with SACK is the next step if loss on the tap
// itself (a full tun ring at small MTUs) proves common.
//
// pasta's -T (listeners inside the namespace towards the host's loopback)
// is not this package's: proto/splice relays those connections between
// two sockets with splice(2), never through the tap. Not implemented
// here: the splice path for -t connections from the host's loopback (they
// use the tap); TCP_WINDOW_CLAMP from the guest's window; the LRU of
// low-RTT ("local") destinations. Segment checksums from the guest are
// not verified here (the engine's parser may). The table holds at most
// Config.Capacity connections (at most 1<<17); SYN floods fill it (as in
// passt, a known gap).
//
// # Flow policy
//
// A SYN from the guest passes Config.Gate (package egress) with the real
// destination, after HostDestination, before anything is opened: refused
// (a deny rule or a flow limit), it is answered with a RST at once, so the
// guest's connect() fails with ECONNREFUSED in microseconds. Connections
// accepted on -t listeners are inbound: the gate logs them and never
// refuses them. closeConn tells the gate of every close, with the payload
// bytes written to the socket (bytesFromTap) and acknowledged by the guest
// (bytesToTap), for the audit log.
//
// # Counters
//
// Stats gives the engine, in the shape of flow.Stats: flows (live
// connections), opens, refused (table or budget full, no host
// destination, host connect failed, flow policy: each answered with
// RST), rst (RSTs
// sent), retrans (duplicate-ACK rewinds plus timeouts), ooo, short_writes,
// timeouts, no_buffer (connections that waited for frames), flushes
// (mid-wake-up tap flushes), drop_malformed, drop_no_flow (segments for
// no connection) and drop_no_buffer (control frames not sent). They
// appear on the stats line as tcp_opens=N and so on.
package tcp
