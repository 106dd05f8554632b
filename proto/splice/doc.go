// SPDX-License-Identifier: GPL-2.0-or-later

// Package splice relays TCP connections between two sockets without a trip
// through the tap device: pasta's -T path, from listeners inside the
// namespace to the host's loopback, and the other way the connections
// that -t listeners accept from the host's loopback (Adopt). Mirrors
// passt's tcp_splice.c.
//
// # Theory of operation
//
// Handler.Listen opens, inside the namespace (fwd.Listen through
// Config.NsSocket), one listening socket per address family: on 127.0.0.1 and [::1] when the
// Listener names no address (passt binds -T listeners to the namespace's
// loopback), or on the address it names, which may be the any-address
// ("0.0.0.0", "::"; "::" is dual-stack). Either way only connections from a
// loopback source are relayed, as passt's fwd_nat_from_splice(); others
// are closed at once.
//
// An accepted connection (side 0, in the namespace) gets a non-blocking
// socket in the host's namespace (side 1) connecting to 127.0.0.1:ToPort
// or [::1]:ToPort, the family of the client's address, or to
// Listener.ToAddr if set. Handler.Adopt takes a connection proto/tcp
// accepted on a -t listener from a loopback client (pasta, unless
// --no-splice): side 0 is then the host's socket, and side 1 is opened
// inside the namespace with Config.NsConnect (netns.Pool in pasta: made
// in batches) or else NsSocket, connecting to the address
// fwd.SpliceDestination chose (the namespace's own address, so that a
// service bound only to the namespace's loopback is not exposed; its
// loopback with --host-lo-to-ns-lo). Adopted connections are inbound:
// the flow policy (Config.Gate) is not asked. Once connected, each direction gets a pipe, and
// bytes move socket → pipe → socket with splice(2), SPLICE_F_MOVE |
// SPLICE_F_NONBLOCK: zero copy, no buffer in this process, no goroutine.
// Pipes are enlarged with F_SETPIPE_SZ to the largest size New could set
// (probed from 8 MiB down, as passt's tcp_set_pipe_size()); when the
// per-user pipe quota is exhausted the enlargement fails silently and the
// pipe keeps the default 64 KiB, which only costs more system calls.
//
// Back-pressure: when the pipe of a direction cannot be emptied into the
// receiving socket (EAGAIN), the connection records "out wait" for that
// socket, asks for EPOLLOUT on it and stops asking for EPOLLIN on the
// sending socket, so a slow reader stops the writer through TCP's own
// window instead of a busy loop. EPOLLIN is level-triggered; each wake-up
// moves a bounded number of pipe-fulls per direction, and stops reading
// after a read that took less than it asked for and less than
// streamRead (64 KiB; the socket was empty): epoll says whether more
// came, so a small message costs two splice(2) calls, not three with the
// last one returning EAGAIN. After a larger read the sender is streaming
// and the loop reads again once the pipe is drained, as passt does after
// reads of a tenth of its pipe: a bulk transfer then waits in epoll once
// per 5-6 MB instead of once per 1.6-2.6 MB.
//
// # Events and states
//
// The state is implied by the events seen (type events):
//
//   - evConnecting: accepted, host socket connecting. Operations: wait for
//     EPOLLOUT on side 1. Caveats: data from side 0 waits in its socket.
//   - evEstablished: both pipes exist; data flows both ways.
//   - evFinRcvd0/1: read returned 0 on that side (its peer shut down).
//   - evFinSent0/1: shutdown(SHUT_WR) done on that side, after the pipe
//     towards it drained: half-close is propagated both ways
//     independently. A side that has both received and sent a FIN leaves
//     the epoll set (it would report EPOLLHUP for ever).
//   - evOutWait0/1: the pipe towards that side is not empty and the socket
//     is full: EPOLLOUT wanted there, EPOLLIN dropped on the other side.
//
// A connection closes normally once FIN has been sent to both sides. It is
// aborted (both sockets closed with SO_LINGER 0, so the kernel sends RST)
// on EPOLLERR, on a splice error such as ECONNRESET or EPIPE, on EPOLLHUP
// of a side that has not finished, or when the host connect fails: a reset
// on one side becomes a reset on the other, and a refused connection
// becomes a reset for the client.
//
// The namespace connecting to the host is egress: each accepted
// connection passes Config.Gate (package egress) with its destination
// (the rule's address or the host's loopback, and port) before the host
// side is opened; refused, it is reset at once (the client reads
// ECONNRESET). closeConn reports the bytes moved each way.
//
// # Table
//
// Connections live in a fixed-capacity array of values allocated by New,
// kept dense: a closed connection's slot is filled with the last one in
// End (passt's flow table compaction), and the moved sockets' epoll
// references are updated. A socket's flow.Ref carries Kind KindSplice,
// Index = slot<<1 | side, and the fd; events whose fd no longer matches the
// slot are ignored. Listening sockets use KindSpliceListen with the index
// of the listener slot. The handler claims both kinds (flow.Claim), since
// the engine dispatches each Kind to one Handler and proto/tcp already
// owns KindTCP and KindTCPListen; it takes no frames from the tap.
//
// A full table refuses new connections with a reset. When accept fails for
// want of file descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM), the listener
// is paused (no EPOLLIN) for acceptPause and resumed by Tick, so that a
// pending connection cannot spin the loop.
//
// # Limits
//
// Each connection holds six file descriptors (two sockets, two pipes).
// Unlike passt there is no pool of pre-opened pipes: pipes are made per
// connection. Namespace sockets come from Config.NsConnect (a batch-made
// pool in pasta) only for adopted connections; the -T side needs none
// (accepted sockets inherit the listener's namespace). There is
// no inactivity timeout, as in passt. SO_RCVLOWAT tuning is not done.
//
// Everything runs on the event-loop goroutine; nothing is safe for
// concurrent use.
package splice
