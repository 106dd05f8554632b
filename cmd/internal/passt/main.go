// SPDX-License-Identifier: GPL-2.0-or-later

// Package passt is gopasst's passt mode: qemu connects to a UNIX stream
// socket ("-netdev stream") and exchanges Ethernet frames, each behind a
// 4-byte big-endian length; the engine translates them to host sockets.
//
//	passt [OPTION]...
//
// # Processes
//
// One binary, two processes (three roles), told apart by the sandbox
// stage (sandbox.Stage, proven with sandbox.VerifyStage):
//
//  1. The launcher (what the user starts): sandbox.Initial, parse the
//     command line, open the log and pcap files, bind the UNIX socket (-s,
//     or the first free /tmp/passt_N.socket) or take the connected -F fd,
//     bind every -t and -u listener (a port that cannot be bound ends
//     passt at once with status 1 and a message naming it, as passt's
//     "Couldn't listen on requested ports"), open the --pid file. Started
//     as root, it then gives up root for good (sandbox.BecomeUser: bounding
//     set emptied, uid and gid --runas or nobody, no capability) and chowns
//     the socket to that user. It re-executes itself once, through
//     sandbox.Reexec, as the sandboxed process, handing it those files,
//     and waits until that reports ready on a pipe (or its error). It
//     writes the sandboxed process's PID to --pid, then exits 0; with -f it
//     confines itself (sandbox.ConfineWaiter: no capability, Landlock
//     without any file system or network access, a seccomp filter that
//     allows waiting, signalling and write and kills on anything else),
//     forwards SIGTERM, SIGINT and SIGHUP, and exits with the sandboxed
//     process's status.
//  2. The sandboxed process (stage "passt"), the one that lives: born in a
//     new user namespace (root mapped to --runas, nobody, or the caller),
//     new mount, IPC and UTS namespaces and a new session unless -f, in the
//     host's network namespace. It resolves what the guest is told
//     (guest.Resolve), reads the host's UDP timeouts, calls sandbox.Enter
//     (empty root, no capabilities, no_new_privs, seccomp) and reports
//     ready: by the time the launcher returns and --pid names it, it is
//     confined. Then it accepts one guest at a time and, for each, builds
//     a fresh engine on tap.NewStream with fresh TCP, UDP and ICMP handlers
//     that use the -t/-u sockets bound at start (never closing them), runs
//     the event loop until the guest goes away, closes all of it and
//     returns the memory to the kernel before it accepts the next guest.
//     With --one-off or -F it then exits (0 when the guest disconnected).
//     At exit it removes the socket file through an O_PATH descriptor of
//     its directory (no path resolves in the empty root).
//
// # Why one process, and a fresh engine per guest
//
// passt resets its flow table when qemu reconnects; here the engine and
// the handlers are rebuilt per guest instead: a partial frame, a wedged
// flow or a full table of one guest cannot reach the next (the stream
// reader, every flow, socket, timer and buffer belong to the engine that
// is closed). The earlier design, a fresh process per guest started by an
// unsandboxed supervisor, left a full-root process without a filter for
// passt's whole life. A sandboxed supervisor cannot start a fresh Go
// process: the new runtime opens files before main (transparent huge page
// size, cgroup limits), so its inherited filter would have to allow
// openat, and execve with it. One sandboxed process needs neither: its
// filter adds only epoll_create1 and eventfd2 (for each guest's engine)
// and unlinkat (the socket at exit) to the engine's. That it stays
// leak-free is tested: 1,000 guests connecting and leaving leave the
// descriptor count unchanged and the RSS between guests flat
// (TestIntegrationPasstConnectStorm). The -t/-u listeners now exist from
// start to end: a connection to a forwarded port with no guest connected
// waits in the listen queue for the next one.
//
// # The guest's socket
//
// The guest's connection gets 16 MiB send and receive buffers
// (SO_SNDBUFFORCE when root, which only the launcher is, for -F; else
// SO_SNDBUF within net.core.wmem_max):
// the default ~208 KiB holds three 65520-byte frames, and the engine would
// drop frames as tap_full while qemu drains them (1 MB/s instead of ~100
// MB/s for a download under TCG). Bad input on the stream is the engine's
// and tap.Stream's business: malformed frames are dropped and counted in
// the stats line; a length of 0 or above 65535 ends the connection with the
// reason logged ("closing the guest connection: ..."), and the process
// waits for the next guest.
//
// Only a build with -tags seccompdebug reads GOPASST_SECCOMP=trap|log
// (sandbox.ActionFromEnv), which changes the filter's action in the
// sandboxed process to find a syscall missing from the profile.
//
// Main returns the exit status; cmd/passt's main exits with it.
package passt

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopasst/conf"
	"gopasst/policy"
	"gopasst/sandbox"
)

// Main runs passt with args, the command line without argv[0], and
// returns the exit status. The sandboxed process is told apart by its
// sandbox stage (Reexecuted), which it proves first thing, and gets the
// same args.
func Main(args []string) int {
	sandboxed := sandbox.Stage() == stageSandboxed
	if sandboxed {
		// First thing: the stage variable is only a claim.
		if err := sandbox.VerifyStage(); err != nil {
			fmt.Fprintln(os.Stderr, "passt: refusing to run as the sandboxed stage:", err)
			return 1
		}
	}
	if err := sandbox.Initial(); err != nil {
		fmt.Fprintln(os.Stderr, "passt:", err)
		return 1
	}
	cfg, code, ok := parse(args)
	if !ok {
		return code
	}
	if sandboxed {
		return sandboxedMain(cfg)
	}
	return launch(cfg, args)
}

// Reexecuted reports whether this process claims to be passt's sandboxed
// process: whatever argv[0] says, it must run as passt (where Main makes
// it prove the claim).
func Reexecuted() bool { return sandbox.Stage() == stageSandboxed }

// parse parses the command line. ok is false when the process must exit
// with code: --help, --version, errors, unsupported options.
func parse(args []string) (cfg *policy.Config, code int, ok bool) {
	cfg, err := conf.Parse(policy.ModePasst, args)
	switch {
	case errors.Is(err, conf.ErrHelp):
		fmt.Print(conf.Usage(policy.ModePasst))
		return nil, 0, false
	case errors.Is(err, conf.ErrVersion):
		fmt.Print(conf.Version(policy.ModePasst))
		return nil, 0, false
	case errors.Is(err, conf.ErrCapabilities):
		fmt.Fprint(os.Stderr, conf.Capabilities()) // on stderr, as passt's vu_print_capabilities()
		return nil, 0, false
	case err != nil:
		fmt.Fprintln(os.Stderr, "passt:", err)
		return nil, 1, false
	}
	if u := conf.Unsupported(cfg); len(u) > 0 {
		fmt.Fprintf(os.Stderr, "passt: %s: not yet supported\n", strings.Join(u, ", "))
		return nil, 1, false
	}
	return cfg, 0, true
}
