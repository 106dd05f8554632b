// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import "gopasst/flow"

// DropReason says why a datagram was not relayed.
type DropReason uint8

// Reasons for dropping a datagram.
const (
	DropInvalid   DropReason = iota // from the guest: fragment, port 0, bad source or destination
	DropTableFull                   // no free flow
	DropSocket                      // socket(), bind(), connect() or poller failure opening a flow
	DropSend                        // sendmmsg()/sendto() failed
	DropRecv                        // recvmmsg() error other than EAGAIN
	DropUnmapped                    // inbound: the source has no guest-visible address, or no guest address of its family
	DropRefused                     // refused by the flow policy (egress rule or limit); the guest got ICMP "prohibited"
	numDropReasons
)

var dropNames = [numDropReasons]string{"invalid", "table_full", "socket", "send", "recv", "unmapped", "refused"}

func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// NumDropReasons is the number of drop reasons; Counts.Drops is indexed by
// DropReason.
const NumDropReasons = int(numDropReasons)

// Counts are what the handler did; Stats gives them to the engine in the
// shape of flow.Stats.
type Counts struct {
	FlowsOpened  uint64 // flows created (guest-initiated, -u and -U)
	FlowsExpired uint64 // flows closed by their timeout
	FromGuest    uint64 // datagrams from the guest sent to a host socket
	ToGuest      uint64 // datagrams from host sockets sent to the guest
	Spliced      uint64 // datagrams relayed between -U listeners and host sockets, both ways
	ICMPErrors   uint64 // ICMP/ICMPv6 errors sent to the guest
	ErrQueue     uint64 // error-queue messages read (relayed or not)
	BufferFull   uint64 // a socket was left unread until the next wake-up: no frame buffer left
	Drops        [NumDropReasons]uint64
}

// Claim implements flow.Handler: UDP frames (other than DHCP and DHCPv6),
// flow sockets and -u/-U listeners.
func (h *Handler) Claim() flow.Claim {
	return flow.Claim{
		Name:   "udp",
		Kinds:  []flow.Kind{flow.KindUDP, flow.KindUDPListen},
		Frames: flow.FramesOf(flow.FrameUDP),
		Counters: flow.CountersOf(flow.Flows, flow.Opens, flow.Refused, flow.Expired,
			flow.ICMPErrors, flow.NoBuffer, flow.DropMalformed, flow.DropSocket,
			flow.DropSend, flow.DropRecv, flow.DropUnmapped),
	}
}

// Stats implements flow.Handler.
func (h *Handler) Stats() flow.Stats {
	c := &h.st
	var s flow.Stats
	s[flow.Flows] = uint64(h.tbl.Len())
	s[flow.Opens] = c.FlowsOpened
	s[flow.Refused] = c.Drops[DropTableFull] + c.Drops[DropRefused]
	s[flow.Expired] = c.FlowsExpired
	s[flow.ICMPErrors] = c.ICMPErrors
	s[flow.NoBuffer] = c.BufferFull
	s[flow.DropMalformed] = c.Drops[DropInvalid]
	s[flow.DropSocket] = c.Drops[DropSocket]
	s[flow.DropSend] = c.Drops[DropSend]
	s[flow.DropRecv] = c.Drops[DropRecv]
	s[flow.DropUnmapped] = c.Drops[DropUnmapped]
	return s
}
