// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net/netip"
	"strings"

	"gopasst/proto/l2"
)

// events records what has happened to a connection. The state is implied by
// the events seen; see "Events and states" in doc.go. No events: closed.
type events uint16

const (
	evSockAccepted  events = 1 << iota // accepted on a listener; SYN sent to the guest
	evTapSynRcvd                       // the guest sent SYN; host socket connecting
	evTapSynAckSent                    // SYN+ACK sent to the guest (with evTapSynRcvd)
	evEstablished                      // both sides up
	evSockFinRcvd                      // the host socket reported EOF
	evSockFinSent                      // we shut down writing on the host socket
	evTapFinRcvd                       // the guest sent FIN (and it was in sequence)
	evTapFinSent                       // we sent FIN to the guest
	evTapFinAcked                      // the guest acknowledged our FIN

	// evOpening are the events of which setting one clears the others.
	evOpening = evSockAccepted | evTapSynRcvd | evEstablished
)

var eventNames = [...]string{
	"SOCK_ACCEPTED", "TAP_SYN_RCVD", "TAP_SYN_ACK_SENT", "ESTABLISHED",
	"SOCK_FIN_RCVD", "SOCK_FIN_SENT", "TAP_FIN_RCVD", "TAP_FIN_SENT", "TAP_FIN_ACKED",
}

// String joins the names of the events set with "|"; "CLOSED" if none.
func (e events) String() string { return bitString(uint16(e), eventNames[:], "CLOSED") }

// flags are conditions beside the events, kept for the data path and the
// timers.
type flags uint16

const (
	flStalled      flags = 1 << iota // guest window full: wait for its ACK
	flSockReadable                   // the socket may hold data not yet sent to the guest
	flAckToTapDue                    // an ACK (or window update) to the guest is due
	flPollOut                        // EPOLLOUT is in the epoll interest (connecting or send buffer full)
	flDirty                          // on Handler.dirty for End
	flPending                        // stopped for want of frames; retry next wake-up
	flZeroWndToTap                   // we advertised a small or zero window
	flActiveClose                    // the guest closed first
	flFinQueued                      // seqFinToTap is valid: FIN sent at least once
	flRecovering                     // rewound on duplicate ACKs; no more until the ACK advances
)

var flagNames = [...]string{
	"STALLED", "SOCK_READABLE", "ACK_TO_TAP_DUE", "POLLOUT", "DIRTY", "PENDING",
	"ZERO_WND_TO_TAP", "ACTIVE_CLOSE", "FIN_QUEUED", "RECOVERING",
}

// String joins the names of the flags set with "|".
func (f flags) String() string { return bitString(uint16(f), flagNames[:], "0") }

func bitString(v uint16, names []string, zero string) string {
	if v == 0 {
		return zero
	}
	var b strings.Builder
	for i, n := range names {
		if v&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// conn is one connection: the guest's side as seen in frames, the host's
// side as a kernel socket. Sequence numbers are those of the guest's
// connection; the host socket has its own, which we never see.
type conn struct {
	ev    events
	fl    flags
	sock  int            // host socket
	v6    bool           // IPv6 on the tap side
	local netip.AddrPort // guest's end: its address and port
	peer  netip.AddrPort // the other end as the guest sees it
	tmpl  l2.TCPTemplate // headers of frames to the guest (peer → local)

	// Host socket → guest.
	seqToTap      seqnum // next sequence number to send to the guest
	seqMaxToTap   seqnum // highest sequence number sent, before any rewind
	seqAckFromTap seqnum // guest's cumulative ACK: the socket's queue starts here
	seqFinToTap   seqnum // sequence number of our FIN, if evTapFinSent
	wndFromTap    uint32 // guest's receive window, bytes, scaled
	wsFromTap     uint8  // guest's window scale shift
	mssToTap      uint16 // payload per segment to the guest
	dupAcks       uint8  // duplicate ACKs from the guest in a row
	retrans       uint8  // ACK timeouts in a row

	// Guest → host socket.
	seqFromTap  seqnum // next sequence number expected from the guest
	seqAckToTap seqnum // last ACK sent to the guest
	wndToTap    uint32 // last window advertised to the guest, bytes
	wsToTap     uint8  // our window scale shift (0 if the guest does not scale)

	// Timers, monotonic nanoseconds.
	created  int64 // SYN seen or connection accepted
	lastAct  int64 // last frame or socket event
	ackSince int64 // data in flight to the guest since, or last ACK progress
	deadline int64 // next time Tick must look at this connection

	// Flow policy and audit (Config.Gate).
	gated        bool           // the gate let it open: Close it on close
	inbound      bool           // accepted on a -t listener (not egress)
	host         netip.AddrPort // the host socket's other end
	bytesFromTap uint64         // payload bytes from the guest written to the socket
	bytesToTap   uint64         // payload bytes to the guest, acknowledged by it
}

// inFlight returns the bytes (and FIN) sent to the guest and not acked.
func (c *conn) inFlight() uint32 { return c.seqToTap.sub(c.seqAckFromTap) }

// setOpening sets one of evOpening and clears the others.
func (c *conn) setOpening(e events) { c.ev = c.ev&^evOpening | e }

// established reports whether the handshake is over.
func (c *conn) established() bool { return c.ev&evEstablished != 0 }
