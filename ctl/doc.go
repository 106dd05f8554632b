// SPDX-License-Identifier: GPL-2.0-or-later

// Package ctl is pasta's control socket (-c/--conf-path PATH): a UNIX
// stream socket through which the forwarding rules are listed, added and
// removed while pasta runs, and the small client that talks to it
// (cmd/pesto).
//
// # Theory of operation
//
// The privileged bootstrap binds and listens on PATH (Listen) before the
// sandbox: after sandbox.Enter the engine has no file system, but accept,
// read and write on the inherited socket are in the seccomp allowlist
// already (the TCP handler accepts, every handler reads and writes). The
// listening socket and every accepted client are registered with the
// engine's epoll under flow.KindCtl, owned by Server, a flow.Handler
// that takes no frames: Ref.Index 0 is the listening socket, 1 to
// MaxClients the clients. Everything runs on the engine's goroutine, so
// rules change between two wake-ups, never under a handler's feet.
//
// Upstream's pesto speaks a binary protocol bound to passt's internal
// rule tables; gopasst defines its own line protocol instead. A request
// is one line of at most MaxLine bytes, printable ASCII, ending in "\n":
//
//	list                 the rules: "rule -t SPEC" per line (static: from
//	                     the command line, runtime: added here)
//	add -t SPEC          open host listeners for SPEC, forwarded as -t SPEC
//	add -u SPEC          the same for UDP (-u)
//	del -t SPEC          close the listeners of a rule added with add
//	del -u SPEC
//
// SPEC is the -t/-u grammar of pasta(1) with explicit ports only ("8080",
// "127.0.0.1/8080:80", "9000-9010"): "auto", "all", "none" and excludes
// alone are refused, as is a rule of more than MaxPorts ports; a port
// taken already (by pasta or anyone) fails as bind(2) fails, and the
// rule is not added (the ports it opened are closed again). One port
// may be added for two addresses ("0.0.0.0/8080", "[::]/8080") when the
// kernel lets both bind; del then closes the first listener of the port
// pasta finds, whichever rule opened it. A del names the rule as it was
// added (the same SPEC text). The answer is zero or more "rule ..."
// lines, then one line "ok" or "error MESSAGE"; the connection stays
// open for the next request. Adding opens the listeners through the
// same Opener the auto forwarding uses (proto/tcp's Handler, proto/udp's
// Opener), so a new connection to the port goes through the tap at once;
// removing closes them: new connections are refused, established ones
// carry on.
//
// Hostile input is refused, never a crash: a line longer than MaxLine or
// holding a control or non-ASCII byte gets "error" and the client is
// closed; at most MaxClients clients at once (more are accepted and
// closed at once), at most MaxRules runtime rules. A reply that does not
// fit in the socket buffer at once closes the client (replies are small;
// a client that does not read is not waited for). Counters on the stats
// line: opens (clients accepted), refused (requests answered "error"),
// drop_malformed (clients closed for a bad line).
package ctl
