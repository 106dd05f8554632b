// SPDX-License-Identifier: GPL-2.0-or-later

// Package tap moves Ethernet frames between the engine and the guest: over a
// tap device (pasta) or over a qemu stream socket (passt), in batches,
// without allocating.
//
// # Theory of operation
//
// A Device reads and writes whole frames, each starting with its Ethernet
// header. The engine owns the buffers: ReadFrames fills the caller's
// bufs and sizes, WriteFrames takes the caller's frames and does not keep
// them after it returns. Both are non-blocking; the fd is registered with
// the engine's level-triggered epoll set.
//
// Tun (NewTun) is a tap fd opened with IFF_TAP|IFF_NO_PI: the kernel keeps
// frame boundaries, so each read(2) is one frame and each write(2) one
// frame, as in passt's tap_handler_pasta() and tap_send_frames_pasta().
// EAGAIN and ENOBUFS on write mean "queue full": WriteFrames stops and
// returns how many it wrote; the caller counts the rest as dropped. Other
// per-frame write errors (EIO while the link is down) drop that frame only
// and are counted in WriteErrors.
//
// # Offloads
//
// NewTunVnet is the same tap opened with IFF_VNET_HDR as well (pasta's
// default; netns.OpenTap, GOPASST_TAP_OFFLOAD=off for the plain tap).
// SetOffloads sets the header size (TUNSETVNETHDRSZ, 10 bytes: struct
// virtio_net_hdr, fields in the host's byte order) and asks
// TUNSETOFFLOAD for checksum+TSO4+TSO6, else checksum alone, else
// nothing, stopping at the first the kernel takes (EINVAL: a flag it does
// not know). USO is not asked for: a UDP GSO frame would have to be cut
// into datagrams before the UDP handler. Every frame then has a header,
// read with readv(2) into [header, caller's buffer] and written with
// writev(2) from [header, caller's frame]: no copy, no allocation.
//
// In (guest to us): with TSO the guest's kernel hands over TCP segments of
// up to 64 KiB whatever the MTU (GSO frames, counted as GSOIn), which
// the engine passes on as they are (the TCP handler writes the payload to
// its socket; an MSS only bounds what it sends). With checksum offload
// their checksum may be partial (NEEDS_CSUM: the pseudo-header sum at
// csum_start+csum_offset). The TCP handler never checks it, so TCP's are
// left so; every other one (UDP: DHCP checks it) is finished in software
// (FinishChecksum, counted as ChecksumsDone), and with CompleteChecksums
// on (the engine turns it on with --pcap) TCP's too, so a capture shows
// correct checksums.
//
// Out (us to guest): Offloader.WriteSegments takes, beside each frame, 0
// for a complete frame (zero header) or the MSS of a TCP segment frame
// whose checksum field holds the pseudo-header sum over the whole TCP
// length (l2.TCPTemplate.WritePartial): its header says NEEDS_CSUM at
// the TCP checksum and, when the payload is longer than the MSS, GSO
// TCPV4 or TCPV6 with that MSS (GSOOut). The guest's kernel takes such a
// frame as one segment without checking its checksum (CHECKSUM_PARTIAL)
// and would cut it into MSS-sized segments only to forward it. A segment
// frame that is not Ethernet, IPv4 or IPv6 without extension headers,
// TCP is dropped and counted (BadSegments). Writing GSO frames needs
// only IFF_VNET_HDR, whatever TUNSETOFFLOAD took, so MaxSegment is 65535
// on any NewTunVnet device.
//
// Both count what they lose or split on the way out (Counters: write
// errors, unframable frames, partial writes); the engine prints these on
// its stats line as tap_write_errors, tap_unframable and
// tap_partial_writes, and the offload counters as tap_gso_in,
// tap_gso_out, tap_csum_done and tap_bad_segments; the vhost-user device
// (package tap/vhostuser) adds tap_ring_errors, tap_too_long and tap_held.
//
// Stream (NewStream) is the qemu "-netdev stream" protocol: a 4-byte
// big-endian length, then the frame. Reads go into a 256 KiB reassembly
// buffer; complete frames are copied out into the caller's buffers, a frame
// cut by the end of a read waits there for the rest. Because the bytes are
// then in user space, epoll no longer reports them: when ReadFrames fills
// every buffer, call it again (the engine does so at once, with a zero
// timeout) instead of waiting for EPOLLIN. A length of zero, above 65535,
// or above the caller's buffer means the framing is lost: ReadFrames
// returns ErrZeroLength or ErrFrameTooLong, sticky, and the connection must
// be closed (passt resets it too). EOF and ECONNRESET give ErrClosed.
//
// Stream writes gather up to 512 (length, frame) pairs into one
// sendmsg(2) with MSG_NOSIGNAL. When the socket takes only part of the
// batch, the frames after the cut are dropped (reported through the count),
// but the frame that was cut must be finished or the peer loses the framing:
// its unwritten tail is copied into a private buffer, Pending reports it,
// and the engine asks for EPOLLOUT and calls Flush until it is gone. Until
// then WriteFrames writes nothing. (passt finishes such a tail with a
// blocking-ish loop in tap_send_remainder(); here the loop never blocks.)
//
// Everything is preallocated at construction: the reassembly buffer, the
// length prefixes, the iovec array and the msghdr, and the tail buffer.
// System calls go through unix.Syscall with these, so steady-state reads
// and writes allocate nothing (TestStreamAllocs). Errors are preallocated
// sentinels or unix.Errno values.
//
// A Device is not safe for concurrent use; it belongs to the event loop.
package tap
