// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import "gopasst/proto/l2"

// Implementation constants.
const (
	// Timeout is how long a flow lives after the guest's last echo
	// request, in nanoseconds (passt ICMP_ECHO_TIMEOUT, 60 s).
	Timeout = 60e9
	// scanInterval is how often Tick looks for expired flows (passt's
	// flow timer runs about once a second).
	scanInterval = 1e9
	// ReplyBatch is how many reply frames the handler can have handed to
	// the tap in one wake-up: the frame buffers are reused only after
	// End, when the engine has flushed them.
	ReplyBatch = 8
	// maxReadsPerEvent bounds the datagrams read per HandleSock call, so
	// one busy flow cannot starve the others (level-triggered epoll
	// brings us back).
	maxReadsPerEvent = ReplyBatch
	// frameSize holds the largest reply: Ethernet, IPv6 and a 64 KiB
	// ICMPv6 message.
	frameSize = l2.EthernetSize + l2.IPv6MinSize + 0xffff
	// hdr4, hdr6: frame bytes before the ICMP message.
	hdr4 = l2.EthernetSize + l2.IPv4MinSize
	hdr6 = l2.EthernetSize + l2.IPv6MinSize
	// maxMsg4, maxMsg6: the largest ICMP message an IP packet can carry.
	maxMsg4 = 0xffff - l2.IPv4MinSize
	maxMsg6 = 0xffff
)
