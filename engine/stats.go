// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"fmt"
	"strings"

	"gopasst/proto/l2"
)

// DropReason says why a frame from the guest was dropped.
type DropReason uint8

// Drop reasons, in the order of the stats line.
const (
	DropTruncated   DropReason = iota // shorter than a header it claims (l2.ErrTruncated)
	DropBadL2                         // VLAN-tagged (ErrVLANDepth, any tag) or malformed ARP (ErrARP)
	DropEtherType                     // not ARP, IPv4 or IPv6 (ErrEtherType)
	DropBadL3                         // bad IP version, IHL, lengths, extension headers
	DropBadL4                         // bad TCP data offset or options, bad UDP length
	DropBadChecksum                   // wrong IPv4 header checksum, or wrong UDP checksum on DHCP/DHCPv6
	DropFragment                      // a fragment the reassembler refused (package frag), or a reassembled datagram that does not parse
	DropProto                         // IP protocol other than TCP, UDP, ICMP, ICMPv6
	DropNotForUs                      // well formed but unanswered: ARP/NDP/DHCP that needs no reply, other ICMP types
	DropOff                           // the service is switched off (--no-tcp, --no-icmp, ...)
	DropNoUDP                         // UDP with no UDP handler set
	DropNoHandler                     // TCP or ICMP echo with no handler set
	NumDropReasons
)

var dropNames = [NumDropReasons]string{
	"truncated", "bad_l2", "ethertype", "bad_l3", "bad_l4", "bad_checksum",
	"fragment", "proto", "not_for_us", "off", "no_udp", "no_handler",
}

// String returns the reason's name as it appears in the stats line.
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", uint8(r))
}

// dropReasonOf maps a Frame.Parse sentinel to its counter.
func dropReasonOf(err error) DropReason {
	switch err {
	case l2.ErrTruncated:
		return DropTruncated
	case l2.ErrVLANDepth, l2.ErrARP:
		return DropBadL2
	case l2.ErrEtherType:
		return DropEtherType
	case l2.ErrIPv4Checksum:
		return DropBadChecksum
	case l2.ErrTCPDataOffset, l2.ErrTCPOptions, l2.ErrUDPLength:
		return DropBadL4
	default: // IP version, IHL, lengths, extension headers
		return DropBadL3
	}
}

// Service names a reply the engine builds itself, or a handler it feeds.
type Service uint8

// Services, in the order of the stats line.
const (
	SvcARP    Service = iota // ARP replies sent
	SvcNDP                   // NDP replies (RA, NA) to solicitations
	SvcRA                    // unsolicited router advertisements
	SvcDHCP                  // DHCP replies
	SvcDHCPv6                // DHCPv6 replies
	SvcTCP                   // frames passed to the TCP handler
	SvcUDP                   // frames passed to the UDP handler
	SvcICMP                  // echo requests passed to the ICMP handler
	NumServices
)

var serviceNames = [NumServices]string{"arp", "ndp", "ra", "dhcp", "dhcpv6", "tcp", "udp", "icmp"}

// String returns the service's name as it appears in the stats line.
func (s Service) String() string {
	if s < NumServices {
		return serviceNames[s]
	}
	return fmt.Sprintf("Service(%d)", uint8(s))
}

// Stats are the engine's counters. All count since New.
type Stats struct {
	FramesIn  uint64 // frames read from the guest, malformed ones included
	BytesIn   uint64 // their bytes, Ethernet header included
	FramesOut uint64 // frames written to the guest
	BytesOut  uint64 // their bytes
	Dropped   uint64 // frames from the guest dropped: the sum of Drops
	Drops     [NumDropReasons]uint64
	TapFull   uint64 // frames towards the guest dropped because the device was full
	Service   [NumServices]uint64
	Wakeups   uint64 // epoll_pwait returns

	// Flows held at the end of the last wake-up, by handler, and of the
	// shared budget (Config.Budget): used and size.
	FlowsTCP, FlowsUDP, FlowsICMP uint64
	FlowsUsed, FlowsMax           uint64

	// Fragmented counts fragments written for frames larger than the
	// MTU; Reassembled datagrams put together from the guest's fragments.
	Fragmented, Reassembled uint64
}

// Line formats s as the stats line the engine logs. The format is stable:
//
//	stats: frames_in=N frames_out=N bytes_in=N bytes_out=N dropped=N (truncated=N bad_l2=N ...) tap_full=N arp=N ndp=N ... wakeups=N tcp_flows=N udp_flows=N icmp_flows=N flows=N flows_max=N
//
// Tests and tools match it with `dropped=(\d+)` and `(\w+)=(\d+)`; fields
// may be appended at the end, never renamed or reordered.
func (s Stats) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stats: frames_in=%d frames_out=%d bytes_in=%d bytes_out=%d dropped=%d (",
		s.FramesIn, s.FramesOut, s.BytesIn, s.BytesOut, s.Dropped)
	for i, v := range s.Drops {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", DropReason(i), v)
	}
	fmt.Fprintf(&b, ") tap_full=%d", s.TapFull)
	for i, v := range s.Service {
		fmt.Fprintf(&b, " %s=%d", Service(i), v)
	}
	fmt.Fprintf(&b, " wakeups=%d", s.Wakeups)
	fmt.Fprintf(&b, " tcp_flows=%d udp_flows=%d icmp_flows=%d flows=%d flows_max=%d",
		s.FlowsTCP, s.FlowsUDP, s.FlowsICMP, s.FlowsUsed, s.FlowsMax)
	fmt.Fprintf(&b, " frags_out=%d reassembled=%d", s.Fragmented, s.Reassembled)
	return b.String()
}
