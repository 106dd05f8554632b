// SPDX-License-Identifier: GPL-2.0-or-later

// Package frag fragments IP datagrams that are larger than the link MTU on
// their way to the guest, and reassembles the guest's fragmented
// datagrams, IPv4 (RFC 791) and IPv6 (RFC 8200 section 4.5), so that a UDP
// datagram of any size up to 65,507 bytes crosses the tap link both ways.
//
// # Theory of operation
//
// Fragmenting (Fragmenter): a frame (Ethernet, IP header, payload) whose
// IP packet exceeds the MTU is cut into fragments whose data, except the
// last one's, is a multiple of 8 bytes. IPv4: the header (options
// refused: gopasst writes none) is copied into every fragment with the
// total length, the MF flag, the offset and a fresh identification set and
// the header checksum recomputed; a packet with DF set is not fragmented
// (Start reports false). IPv6: we are the source node, so a fragment
// header (next header 44) is inserted after the fixed header, which must
// be followed directly by the upper layer (no extension headers; gopasst
// writes none). Start checks the frame; each Next writes one fragment
// frame into the caller's buffer, so that nothing is allocated and the
// fragments can go straight into the engine's output slab.
//
// Reassembling (Reassembler): a fixed number of slots, each with one
// buffer for the largest datagram (65,535 bytes of IP payload after the
// headers), all allocated by New: memory is bounded by Slots x 64 KiB
// whatever the guest sends. A fragment is keyed by (version, source,
// destination, identification, and for IPv4 the protocol). Its data is
// copied at its offset; a bitmap of 8-byte blocks records what arrived.
// The first fragment (offset 0) supplies the Ethernet and IP headers; the
// last one (MF clear) fixes the length. When the bytes received equal
// that length the datagram is complete: the headers are written in front
// of the data (IPv4: total length, flags and offset cleared, checksum;
// IPv6: payload length, the fragment header removed and its next header
// put in the fixed header) and Add returns the whole frame, valid until
// the next call to Add.
//
// Hostile input is dropped and counted (Stats), never a crash:
// overlapping fragments drop the whole datagram (RFC 5722; also the
// classic teardrop defence for IPv4), as do a non-last fragment whose
// length is not a multiple of 8, data beyond 65,535 bytes or beyond the
// length the last fragment announced, and a second, different last
// fragment. An IPv6 fragment header must follow the fixed header
// directly (Linux puts it there for UDP); other layouts are counted as
// Unsupported. A datagram not complete within Timeout (default 30 s,
// Linux's ipfrag_time) is dropped; when every slot is busy, the oldest
// datagram is dropped to make room (Evicted).
//
// # Limits
//
// Neither type is safe for concurrent use; both belong to the event loop.
// IPv4 options are not reproduced in fragments (the Fragmenter refuses
// them) and those of the first fragment are kept on reassembly.
// Reassembled datagrams are handed to the handlers like any frame;
// nothing of the fragments' own Ethernet headers but the first one's is
// kept.
package frag
