// SPDX-License-Identifier: GPL-2.0-or-later

// Package flow is the contract between the event loop (package engine) and
// the protocol handlers (proto/..., and pasta's auto-forwarding scanner in
// fwd): what a handler is (Handler), how it says what it owns (Claim), how
// a file descriptor registered with epoll names its owner (Ref), how a
// handler asks for epoll interest (Poller), how it hands frames to the
// guest (Tap), and the one shape of its counters (Stats). It also holds
// what the handlers share: the flow Budget, the hash Index of their flow
// tables, Table (a dense array of flows over an Index, with add and
// remove), and ReplySlots and Responder for handlers that answer frame by
// frame.
//
// # Theory of operation
//
// The engine owns one epoll instance and one goroutine, locked to its OS
// thread. Every handler is made by its package's New from one Config value
// (the engine's Poller and Tap, the guest's Net, the shared Budget, the
// logger: nothing is set after New) and given to the engine with one call,
// engine.Add, which reads its Claim once:
//
//   - Name: the prefix of its counters on the stats line.
//   - Kinds: the epoll kinds it owns. Every fd in the epoll set carries a
//     Ref in its epoll data: the Kind, an index into the owner's own flow
//     table, and the fd. On a wake-up the engine reads the Ref and calls
//     the owner of that Kind; no map lookup, no allocation.
//   - Frames: the classes of frames from the guest it takes (FrameClass:
//     ARP, NDP, DHCP, DHCPv6, TCP, other UDP, echo requests); the engine
//     parses and sorts each frame and calls the owner of its class, which
//     answers with a Verdict (Accept, or a reason to drop it).
//   - Counters: which of the Counter values its Stats fills.
//
// Handlers own their flow tables (dense arrays reached by index handles:
// a Table, or TCP's own growing table over an Index; each flow holds a
// unit of the shared Budget) and their frame buffers.
//
// Each wake-up calls, on every handler in the order of Add: Begin; then
// HandleTap and HandleSock as frames and events come; Tick when a
// TickInterval has passed (or, when every handler is a Sleeper and
// nothing happened, when the earliest timer they name is due, at most
// an IdleTickInterval on); End (batched ACKs, window updates, staged
// datagrams); then the engine writes out the frames queued. Before its
// first wait the engine runs one wake-up without events, Begin and End
// only (the NDP handler sends its unsolicited router advertisement from
// its first Begin). Begin is where a handler knows that the frames it
// sent in the last wake-up are gone; no handler has to guess where a
// wake-up starts.
//
// Frames towards the guest are built by the handler, Ethernet header
// first, in memory it owns, and given to Tap.Send; Send keeps a reference
// until the engine's flush after End, so a handler must not reuse a
// buffer it has sent before its next Begin.
//
// Exception: a Tap that also implements Flusher (the engine's does) can
// be flushed mid-wake-up by a handler that has run out of buffers. When
// Flush returns true, every frame sent so far, by any handler, has been
// written and no reference to it is kept, so the caller may reuse its
// buffers at once. Two kinds of handler need it: TCP, to send more than
// one batch of data frames per wake-up instead of waiting up to a
// TickInterval for the next one, and the link services (ReplySlots), to
// answer a burst of requests in full. Other handlers are unaffected:
// their frames are only written earlier than they would have been. When
// it returns false the device is full and the frames it refused are
// lost, as at the end of a wake-up.
//
// Segments: a Tap that also implements Segmenter (the engine's, on a
// device with tap offloads) takes TCP frames larger than the MTU with a
// partial checksum (SendSegments, with the MSS the guest's kernel is to
// see); the TCP handler then builds up to 64 KiB segments at any MTU and
// skips the checksum over the payload. On other devices MaxSegment is 0
// and nothing changes.
//
// Lending: a Tap that also implements Lender (the engine's, on a
// vhost-user device) lends the guest's receive buffers, so that TCP
// peeks host data straight into them and only writes the headers
// (Commit copies them in front); the engine writes what it has queued
// before each loan, so a lent frame overtakes nothing sent before it.
//
// Stats returns a handler's counters as a Stats array indexed by Counter
// (flows, opens, refused, rst, retrans, ooo, short_writes, timeouts, ...,
// drops by reason). Handlers count into their own fields on the hot path
// (no allocation, no formatting); the engine reads Stats only for its
// stats line, at most once per TickInterval, and prints the counters the
// Claim names as NAME_COUNTER=N.
//
// Everything here runs on the event-loop goroutine: nothing is safe for
// concurrent use, and nothing needs a mutex.
package flow
