// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import "fmt"

// Counter names one of the counters every handler reports in the same
// shape (Stats). A handler fills those that mean something for it and
// names them in Claim.Counters; the engine prints those, in this order,
// as NAME_COUNTER=N (tcp_retrans=3).
type Counter uint8

// Counters, in the order of the stats line. Flows is a gauge; every other
// counter counts since the handler was made.
const (
	Flows         Counter = iota // flows held now (connections, UDP flows, ping sockets)
	Opens                        // flows opened, both directions
	Refused                      // flows refused: table or shared budget full, host connect refused, source not allowed
	Resets                       // connections reset (RST sent to the guest, or a spliced connection aborted)
	Retrans                      // retransmissions towards the guest (duplicate ACKs and timeouts)
	OutOfOrder                   // segments from the guest ahead of the expected sequence
	ShortWrites                  // socket writes that took less than they were given
	Timeouts                     // retransmission timeouts (ACK timer expired)
	Expired                      // flows closed because they were idle
	Replies                      // frames sent to the guest in answer (link services, echo replies)
	Unsolicited                  // frames sent to the guest unprompted (router advertisements)
	ICMPErrors                   // ICMP/ICMPv6 errors relayed to the guest
	NoBuffer                     // times work waited for the next wake-up for want of a frame buffer
	Flushes                      // mid-wake-up flushes of the tap to reuse frame buffers
	Lent                         // frames built in the guest's receive buffers, the tap's loan (Lender)
	DropMalformed                // from the guest: malformed, or not acceptable (fragment, port 0, bad address)
	DropNoFlow                   // from the guest: for no flow (TCP: answered with RST)
	DropNoBuffer                 // frames not sent for want of a buffer
	DropSocket                   // socket(), bind(), connect() or epoll failures opening a flow
	DropSend                     // send failures towards the host
	DropRecv                     // receive failures from the host, or datagrams not acceptable
	DropUnmapped                 // from the host: source without a guest-visible address
	NumCounters
)

var counterNames = [NumCounters]string{
	"flows", "opens", "refused", "rst", "retrans", "ooo", "short_writes",
	"timeouts", "expired", "replies", "unsolicited", "icmp_errors",
	"no_buffer", "flushes", "lent", "drop_malformed", "drop_no_flow",
	"drop_no_buffer", "drop_socket", "drop_send", "drop_recv",
	"drop_unmapped",
}

// String returns the counter's name as it appears on the stats line
// (after the handler's name and an underscore).
func (c Counter) String() string {
	if c < NumCounters {
		return counterNames[c]
	}
	return fmt.Sprintf("Counter(%d)", uint8(c))
}

// Counters is a set of counters.
type Counters uint32

// CountersOf returns the set of the given counters.
func CountersOf(cs ...Counter) Counters {
	var s Counters
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in the set.
func (s Counters) Has(c Counter) bool { return s&(1<<c) != 0 }

// Stats are a handler's counters, indexed by Counter.
type Stats [NumCounters]uint64
