// SPDX-License-Identifier: GPL-2.0-or-later

package engine

import (
	"fmt"
	"strings"

	"gopasst/flow"
	"gopasst/proto/l2"
	"gopasst/tap"
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
	DropNoUDP                         // UDP with no UDP handler added
	DropNoHandler                     // TCP, ICMP echo, ARP, NDP, DHCP or DHCPv6 with no handler added
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

// Service names a class of frames from the guest the engine hands to a
// handler, counted when the handler accepts them (flow.Accept).
type Service uint8

// Services, in the order of the stats line.
const (
	SvcARP    Service = iota // ARP requests answered (the handler of flow.FrameARP accepted them)
	SvcNDP                   // NDP solicitations answered (flow.FrameNDP)
	SvcRA                    // unsolicited router advertisements: the flow.Unsolicited counters of every handler
	SvcDHCP                  // DHCP requests answered (flow.FrameDHCP)
	SvcDHCPv6                // DHCPv6 requests answered (flow.FrameDHCPv6)
	SvcTCP                   // frames passed to the TCP handler (flow.FrameTCP)
	SvcUDP                   // frames passed to the UDP handler (flow.FrameUDP)
	SvcICMP                  // echo requests passed to the ICMP handler (flow.FrameEcho)
	NumServices
)

// serviceOf is the Service counting each frame class.
var serviceOf = [flow.NumFrameClasses]Service{
	flow.FrameARP: SvcARP, flow.FrameNDP: SvcNDP, flow.FrameDHCP: SvcDHCP,
	flow.FrameDHCPv6: SvcDHCPv6, flow.FrameTCP: SvcTCP, flow.FrameUDP: SvcUDP,
	flow.FrameEcho: SvcICMP,
}

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

	// Flows held by the handlers of TCP, UDP and echo frames (their
	// flow.Flows, as of the last Tick), and of the shared budget
	// (Config.Budget, at the end of the last wake-up): used and size.
	FlowsTCP, FlowsUDP, FlowsICMP uint64
	FlowsUsed, FlowsMax           uint64

	// The flow policy (Config.Gate): flows refused by an egress rule and
	// by a flow limit, per protocol (TCP, UDP, ICMP), and audit log
	// events lost (full buffer, slow or failing file).
	Denied, Limited [3]uint64
	AuditDropped    uint64

	// Fragmented counts fragments written for frames larger than the
	// MTU; Reassembled datagrams put together from the guest's fragments;
	// FragsHeld the guest's fragments taken into reassembly that did not
	// complete a datagram (the one that does is counted with the
	// datagram: answered or dropped). A frame from the guest is counted
	// exactly once: dropped, held, or passed on.
	Fragmented, Reassembled, FragsHeld uint64

	// Reclaims counts the times the engine gave memory back to the
	// system after most of a burst of flows had gone (see reclaim).
	Reclaims uint64

	// Tap are the device's own counters (tap.Counted), as of the last
	// Tick.
	Tap tap.Counters

	// Handlers are the counters of every handler, in the order of Add,
	// as of the last Tick.
	Handlers []HandlerStats
}

// HandlerStats are one handler's counters and what it claimed.
type HandlerStats struct {
	Name     string
	Frames   flow.Frames   // the frame classes it takes
	Counters flow.Counters // the counters it fills
	Stats    flow.Stats
}

// Line formats s as the stats line the engine logs. The format is stable:
//
//	stats: frames_in=N frames_out=N bytes_in=N bytes_out=N dropped=N (truncated=N bad_l2=N ...) tap_full=N arp=N ndp=N ... wakeups=N tcp_flows=N udp_flows=N icmp_flows=N flows=N flows_max=N tap_write_errors=N tap_unframable=N tap_partial_writes=N tap_ring_errors=N tap_too_long=N tap_held=N
//	  denied_tcp=N denied_udp=N denied_icmp=N limited_tcp=N limited_udp=N limited_icmp=N audit_dropped=N frags_out=N reassembled=N frags_held=N
//	  tap_gso_in=N tap_gso_out=N tap_csum_done=N tap_bad_segments=N reclaims=N HANDLER_COUNTER=N ...
//
// (denied_* and limited_* count flows the flow policy refused, by
// protocol; audit_dropped the audit log events lost; tap_gso_* the
// device's offload counters, see tap.Counters; reclaims the memory
// given back after bursts of flows), then, for each
// handler in the order of Add, each counter it fills as
// NAME_COUNTER=N (tcp_opens=N tcp_refused=N ... udp_opens=N ...), in
// flow.Counter order. The flows of the handlers of TCP, UDP and echo
// frames are the fields tcp_flows, udp_flows and icmp_flows and are not
// repeated. Tests and tools match the line with `dropped=(\d+)` and
// `(\w+)=(\d+)`: every name is unique; fields may be appended before
// the handlers' counters, never renamed or reordered.
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
	fmt.Fprintf(&b, " tap_write_errors=%d tap_unframable=%d tap_partial_writes=%d tap_ring_errors=%d tap_too_long=%d tap_held=%d",
		s.Tap.WriteErrors, s.Tap.Unframable, s.Tap.PartialWrites, s.Tap.RingErrors, s.Tap.TooLong, s.Tap.Held)
	fmt.Fprintf(&b, " denied_tcp=%d denied_udp=%d denied_icmp=%d limited_tcp=%d limited_udp=%d limited_icmp=%d audit_dropped=%d",
		s.Denied[0], s.Denied[1], s.Denied[2], s.Limited[0], s.Limited[1], s.Limited[2], s.AuditDropped)
	fmt.Fprintf(&b, " frags_out=%d reassembled=%d frags_held=%d", s.Fragmented, s.Reassembled, s.FragsHeld)
	fmt.Fprintf(&b, " tap_gso_in=%d tap_gso_out=%d tap_csum_done=%d tap_bad_segments=%d reclaims=%d",
		s.Tap.GSOIn, s.Tap.GSOOut, s.Tap.ChecksumsDone, s.Tap.BadSegments, s.Reclaims)
	for _, h := range s.Handlers {
		legacy := h.Frames.Has(flow.FrameTCP) || h.Frames.Has(flow.FrameUDP) || h.Frames.Has(flow.FrameEcho)
		for c := range flow.NumCounters {
			if !h.Counters.Has(c) || (c == flow.Flows && legacy) {
				continue
			}
			fmt.Fprintf(&b, " %s_%s=%d", h.Name, c, h.Stats[c])
		}
	}
	return b.String()
}
