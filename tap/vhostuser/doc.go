// SPDX-License-Identifier: GPL-2.0-or-later

// Package vhostuser is passt's vhost-user back end for a virtio-net
// device: qemu (the front end) connects to passt's UNIX socket, shares the
// guest's memory and virtqueues over it, and frames move between the rings
// and the engine without the stream socket's length-prefixed copies
// through the kernel. Mirrors passt's vhost_user.c, virtio.c and vu_common.c
// in what it does, not in how.
//
// # Theory of operation
//
// A Device is a tap.Device, so the engine, its handlers and its event loop
// are the same as for the stream socket. Fd returns an epoll set of the
// device's own, which holds the connection and the kick eventfds of both
// queues: the engine's epoll sees it readable when qemu sent a message or
// the guest kicked a queue. ReadFrames then handles every waiting control
// message, drains the kicks, and walks the transmit queue; WriteFrames
// fills the receive queue.
//
// Control messages (vhost-user.rst) are read whole, header and payload,
// with any file descriptors that came along (SCM_RIGHTS). The header is
// read without waiting; the rest of a begun message, and a reply, may wait
// a second (SO_RCVTIMEO, SO_SNDTIMEO) and then end the connection. Parse
// checks the version, the reply bit, and the payload size and fd count of
// each request type a virtio-net front end sends; anything else ends the
// connection (a request the back end does not know may want a reply it
// cannot give). A request that parses but cannot be honoured (ring
// addresses outside guest memory, a queue size that is not a power of two)
// is refused through REPLY_ACK, logged, and the connection goes on. Every
// fd that is not kept (kick, call and error eventfds are) is closed,
// memory fds right after the mmap.
//
// Offered: VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CSUM,
// VIRTIO_NET_F_GUEST_CSUM, VIRTIO_RING_F_EVENT_IDX and
// VHOST_USER_F_PROTOCOL_FEATURES, with the REPLY_ACK protocol feature;
// one queue pair (0 receives, 1 transmits). The header is 12 bytes (10
// without VERSION_1 and MRG_RXBUF). Not offered: segmentation offloads,
// indirect descriptors, multiqueue, dirty logging (migration), so the
// rings are split rings of direct descriptors.
//
// # Notifications
//
// To the guest: the used index is published once per call that used
// entries (ReadFrames, WriteFrames, WriteSegments, Commit), and the call
// eventfd written if the guest wants it (vring.publish): without the
// event index unless it set VIRTQ_AVAIL_F_NO_INTERRUPT, with it only if
// the new used index passed the used_event it wrote (virtio 1.x
// §2.7.7.2). From the guest: with the event index, the device writes
// avail_event (askKick) after each round, asking for a kick at the next
// entry; an entry the guest made available between its read of
// avail_event and our write came without a kick, so askKicks looks again
// at once: transmit entries are taken in the same call, and new receive
// buffers, while a frame or a connection waits for them, wake the engine
// through the device's own eventfd.
//
// # Checksums
//
// Nobody sums a TCP payload on this device, either way. To the guest
// (GUEST_CSUM): the Device is a tap.Offloader whose segments are as long
// as the MTU (MaxSegment), so the TCP handler writes its data frames with
// only the pseudo-header sum in the checksum field (flow.Segmenter, or
// built in the guest's buffers, flow.Lender), and they go with
// NEEDS_CSUM at the TCP checksum: the guest's kernel takes
// them as CHECKSUM_PARTIAL, as from a local sender. Every other frame is
// complete and goes with DATA_VALID, so the guest does not check it
// again. A guest without GUEST_CSUM gets TCP segments finished in a copy
// (the engine's frame stays as is: --pcap finishes it for the capture).
// From the guest (CSUM): frames may come with NEEDS_CSUM; the device
// finishes the checksum of all but TCP segments (UDP for DHCP, ICMP, the
// rest), and of those too when a capture is on (CompleteChecksums): the
// engine's TCP never reads it, the host's kernel makes its own.

// # Guest memory
//
// SET_MEM_TABLE gives up to 8 regions: guest-physical start, size, the
// front end's virtual start, and an offset into the memfd passed with it.
// Each is mapped MAP_SHARED from that fd (the mmap is of the fd qemu
// passed: no other memory is reachable), the fd closed. Ring addresses are
// the front end's virtual addresses, descriptor addresses guest-physical;
// both translate only when the whole range lies in one region, with
// overflow checks (memory.guest, memory.user). Rings must be aligned as
// virtio asks (descriptors 16, used 4) and the available ring 4 bytes
// (virtio asks 2; every driver gives 4, and the indices are then read with
// one 32-bit atomic: see ring_unsafe.go).
//
// Guest memory is hostile and changes under the back end's feet. Each
// descriptor is read once into locals, then checked: index within the
// table, no INDIRECT flag, the buffer in guest memory, the direction
// right for the queue (driver-readable to transmit, device-writable to
// receive), at most min(queue size, 1024) descriptors a chain, so that a
// loop ends. A frame from the guest is copied once out of guest memory:
// the engine never parses bytes the guest can still change while they
// are parsed (no double fetch), which is why the transmit path copies
// where upstream parses in place. Towards the guest, TCP data is read by
// the kernel straight into the guest's buffers (Lend, below) and never
// read back by passt: a guest that rewrites its own receive buffers
// meanwhile harms only itself. A malformed chain is given back used with
// length 0 and counted (tap_ring_errors); a malformed ring (the
// available index more than the queue size ahead, a head beyond the
// table) stops that queue, signals its error eventfd and is counted; it
// works again once the front end sets it up again (a new kick). A guest
// cannot crash the process, and cannot make it touch memory outside
// the regions. A front end that shrinks the memfd under the mapping makes
// the access fault: ReadFrames and WriteFrames run with
// debug.SetPanicOnFault and end the connection (errFault) instead.
//
// # Frames
//
// Transmit (ReadFrames): for each available chain, up to len(bufs), the
// frame after the virtio-net header is copied into the engine's buffer
// (a frame longer than it is dropped and counted, tap_too_long), and the
// chain is put in the used ring with length 0. The used index is
// published and the guest notified once per call.
//
// Receive (WriteFrames, WriteSegments): each frame takes as many
// available chains as its header and bytes need (mergeable buffers; one
// chain without them), each written as far as it goes and used with the
// bytes written, and the header's num_buffers set in the first.
// Published and notified once per call.
//
// Lent (Lend, Commit: tap.Lender): the TCP handler's data frames are
// built in the guest's receive buffers, with no copy. Lend takes chains
// as receiveOne would, for up to N frames of H bytes of headers and up to
// L bytes of payload each: a frame starts a chain whose first buffer
// must hold the virtio-net header and the H bytes (else the loan ends
// there, untaken, and the frame goes the copy way, which spreads it
// over buffers); its payload is the rest of that buffer, the chain's
// further buffers, then further chains (mergeable buffers), as iovecs
// for the handler's recvmsg(MSG_PEEK). Each descriptor is read and
// checked once, as for a copy; a malformed chain ends the loan before
// it, untaken (the copy path drops and counts it next), and the ring
// running out ends it with the last frame shorter. Nothing is staged
// until Commit, which writes each committed frame's headers (copied
// from the handler, under the fault guard) and virtio-net header
// (NEEDS_CSUM at the TCP checksum, num_buffers) into its first buffer,
// stages its chains used with the bytes they got, rewinds the available
// index over every chain that got nothing (they are all at the tail: the
// peek fills in order), publishes once and notifies. A device lends only
// with GUEST_CSUM (nobody sums the payload) and while no frame is held
// back (held frames go first); the engine lends only without a capture
// (--pcap copies, so that the capture has the frames) and writes its
// queued frames before a loan, so that a lent data frame overtakes no
// SYN-ACK, ACK or FIN queued before it. Any other call on the device
// gives back a loan left open.
//
// When the guest is slower than the host (always under TCG) its receive
// queue runs out of buffers. Two things keep TCP from dropping frames
// then. The Device is a tap.Roomer: Room sums the buffers the guest has
// made available, and the TCP handler sends no more than that in a
// wake-up; the rest of its data stays in the host socket (passt's way)
// until the guest posts buffers and kicks the queue, which wakes the
// engine and gives the waiting connections their turn. What goes over
// the estimate (other handlers, headers) is held in a backlog of 8 MiB:
// copied, kept in order, and written first when buffers come, on the
// kick (tap_held counts them). A frame that finds no room and no backlog
// space takes nothing: the chains it began on are given back (the index
// rewound, the staged used entries dropped) and the engine counts it
// (tap_full).

// # Queue states
//
// A queue is stopped until SET_VRING_KICK starts it (with its size, base
// and addresses set before), and moves frames when started, enabled (by
// SET_VRING_ENABLE with the protocol features, by the kick without) and
// translated through the memory table. GET_VRING_BASE stops it and returns
// the next available index; its eventfds are closed and its size,
// addresses and indices kept for the restart (qemu stopping the device, a
// guest reboot). Broken is a stopped queue that a new kick restarts.
//
// # State
//
// Everything the device knows lives in the Device: features, memory
// regions, and per queue size, addresses, indices, eventfds and state.
// A later migration support serialises it from there (the indices are
// what GET_VRING_BASE returns; the memory is the guest's).
//
// # Limits
//
// One queue pair; no segmentation offloads (GSO) either way, so a guest
// with a small MTU gets MTU-sized frames; no dirty-page logging, so no live
// migration (passt's --repair-path and --migrate-* options are refused);
// the front end's polling mode (a kick without fd) is accepted, and the
// queue is then walked whenever the device is read.
//
// A Device is not safe for concurrent use: it belongs to the event loop.
// The steady-state paths allocate nothing (TestAllocs); the backlog,
// the copy buffer for guests without GUEST_CSUM and the loan's records
// are allocated on first use.
package vhostuser
