// SPDX-License-Identifier: GPL-2.0-or-later

// Package flow is the contract between the event loop (package engine) and
// the protocol handlers (proto/...): how a file descriptor registered with
// epoll names its owner, how a handler asks for epoll interest, and how it
// hands frames to the tap side.
//
// # Theory of operation
//
// The engine owns one epoll instance and one goroutine, locked to its OS
// thread. Every fd in the epoll set carries a Ref in its epoll data: the kind
// of owner (which handler), an index into that handler's own flow table, and
// the fd. On a wake-up the engine reads the Ref and calls the handler for
// that kind; no map lookup, no allocation. Handlers own their flow tables
// (fixed capacity, dense arrays, index handles) and their frame buffers.
// The pieces those tables share live here: Index (the seeded hash from
// key to position), Table (a dense array of flows over an Index, with add
// and remove) and Budget (the flow capacity all handlers draw on).
//
// Frames towards the guest are built by the handler, Ethernet header first,
// in memory it owns, and given to Tap.Send; Send may keep a reference until
// the engine's end-of-wakeup Flush, so a handler must not reuse a buffer it
// has sent until its own Flush (the Deferred hook) has run.
//
// Exception: a Tap that also implements Flusher (the engine's does) can be
// flushed mid-wake-up by a handler that has run out of buffers. When
// Flush returns true, every frame sent so far, by any handler, has been
// written and no reference to it is kept, so the caller may reuse its
// buffers at once (the TCP handler does, to send more than one batch of
// data frames per wake-up instead of waiting up to a TickInterval for the
// next one). Other handlers are unaffected: their frames are only written
// earlier than they would have been. When it returns false the device is
// full and the frames it refused are lost, as at the end of a wake-up.
//
// The call order on each wake-up is: handlers for each ready fd (and for each
// frame read from the tap), then every handler's Deferred hook (batched ACKs,
// window updates), then the tap output is flushed. Timers: Tick is called at
// least every TickInterval with the monotonic time.
//
// Everything here runs on the event-loop goroutine: nothing is safe for
// concurrent use, and nothing needs a mutex.
package flow
