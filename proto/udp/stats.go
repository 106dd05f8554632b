// SPDX-License-Identifier: GPL-2.0-or-later

package udp

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

// NumDropReasons is the number of drop reasons; Stats.Drops is indexed by
// DropReason.
const NumDropReasons = int(numDropReasons)

// Stats counts what the handler did.
type Stats struct {
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
