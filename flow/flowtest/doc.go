// SPDX-License-Identifier: GPL-2.0-or-later

// Package flowtest holds test doubles for the flow contract, shared by the
// protocol handlers' tests: a Poller on a real epoll instance and a Tap
// that records frames.
//
// # Theory of operation
//
// A handler under test registers its sockets with a Poller exactly as
// with the engine's: the flow.Ref is packed into the epoll data, and Wait
// or Dispatch unpacks it again, so that the handler's HandleSock sees what
// the engine would give it. The Poller can also keep a map from fd to the
// Ref last registered (Live), so that tests can check that every open
// socket is registered under its current index, and that closed ones are
// gone. Frames the handler sends to the guest go to a Tap, which copies
// them (the handler may reuse its buffers after the wake-up) or, for
// allocation tests, only counts them.
//
// The package imports testing, so only tests import it.
package flowtest
