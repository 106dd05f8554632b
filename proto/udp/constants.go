// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import "gopasst/proto/l2"

// Specification.
const (
	// maxPayload4, maxPayload6: the largest UDP payload an IPv4 packet
	// (65535 total, 20-byte header, 8-byte UDP header) and an IPv6
	// packet (65535-byte payload length, UDP header included) carry.
	maxPayload4 = 0xffff - l2.IPv4MinSize - l2.UDPSize
	maxPayload6 = 0xffff - l2.UDPSize
	// quoteMax4 is how much of the offending datagram (from its IP
	// header on) an ICMP error quotes: RFC 1812 4.3.2.3 keeps the error
	// within 576 bytes. quoteMax6 is RFC 4443 2.4 (c): within the IPv6
	// minimum MTU, 1280 bytes.
	quoteMax4 = 576 - l2.IPv4MinSize - l2.ICMPv4MinSize
	quoteMax6 = 1280 - l2.IPv6MinSize - l2.ICMPv4MinSize
)

// Implementation constants.
const (
	// DefaultTimeout is how long a flow lives after its last datagram when
	// nothing ever came back (nf_conntrack_udp_timeout, passt's
	// UDP_CONN_TIMEOUT); DefaultStreamTimeout once datagrams went both
	// ways (nf_conntrack_udp_timeout_stream). Nanoseconds.
	DefaultTimeout       = 30e9
	DefaultStreamTimeout = 120e9
	// DefaultCapacity is the flow table size when Config.Capacity is
	// zero: 16384 flows (about 1.6 MB of table and index). Each flow
	// that is not a -u flow holds a socket, so RLIMIT_NOFILE bounds the
	// flows in use as well.
	DefaultCapacity = 1 << 14
	// scanInterval is how often Tick looks for expired flows.
	scanInterval = 1e9
	// DefaultBatch is how many frames the handler can have handed to the
	// tap in one wake-up, and the most datagrams one recvmmsg(2) or
	// sendmmsg(2) moves. Buffers given to the tap are reused after
	// End, once the engine has flushed them.
	DefaultBatch = 64
	// stageBytes is the staging area for datagrams from the guest that
	// wait for one sendmmsg(2) at the end of the run of datagrams of the
	// same flow. It holds at least one datagram of any size.
	stageBytes = 256 << 10
	// hdr4, hdr6: frame bytes before the UDP payload.
	hdr4 = l2.UDP4HeaderSize
	hdr6 = l2.UDP6HeaderSize
	// frameSize holds the largest frame: Ethernet, IPv6, UDP and 65527
	// bytes of payload.
	frameSize = hdr6 + maxPayload6
	// maxErrPerEvent bounds the error-queue reads per HandleSock call.
	maxErrPerEvent = 8
	// maxRecvPerEvent bounds the recvmmsg(2) calls per HandleSock call,
	// so that one busy socket cannot starve the others (level-triggered
	// epoll brings us back).
	maxRecvPerEvent = 2
)
