// SPDX-License-Identifier: GPL-2.0-or-later

// Package passt is gopasst's passt mode: qemu connects to a UNIX stream
// socket ("-netdev stream") and exchanges Ethernet frames, each behind a
// 4-byte big-endian length; the engine translates them to host sockets.
//
//	passt [OPTION]...
//
// # Processes
//
// One binary, three roles, told apart by the environment:
//
//  1. The launcher (what the user starts): sandbox.Initial, parse the
//     command line, bind the UNIX socket (-s, or the first free
//     /tmp/passt_N.socket) or take the connected -F fd, open the log and
//     pcap files, print the qemu command line. With -f it becomes the
//     supervisor itself; otherwise it re-executes itself as the daemon
//     (setsid, stdio on /dev/null), waits until the daemon reports ready on
//     a pipe, writes the daemon's PID to --pid and exits 0.
//  2. The supervisor (the launcher with -f, or the daemon, which without
//     -l first connects to the system log, /dev/log): accepts one guest at
//     a time and, for each, re-executes itself through sandbox.Reexec into
//     the guest process, handing it the connection, the log file or the
//     system log socket, and the pcap file; it waits for that process to end before
//     it accepts the next guest. With --one-off or -F it then exits with the
//     guest process's status (0 when the guest disconnected). It never reads
//     a byte from the guest.
//  3. The guest process (sandbox stage "passt-guest"): new user (root
//     mapped to --runas or nobody), mount, IPC and UTS namespaces, still in
//     the host's network namespace. It resolves what the guest is told
//     (guest.Resolve), builds the engine on tap.NewStream, creates the
//     handlers (whose -t listeners it opens here: the network namespace is
//     the host's, so binding works), calls sandbox.Enter (empty root, no
//     capabilities, seccomp) and runs the event loop until the guest goes
//     away. Then it exits, and every flow of that guest goes with it.
//
// # Why a process per guest
//
// passt resets its flow table when qemu reconnects. Here the engine and the
// handlers are rebuilt per guest instead, and the cheapest leak-free way is
// a fresh process: the seccomp filter refuses epoll_create1 and eventfd2,
// so a sandboxed process cannot build a second engine, and process exit
// frees every socket, timer and buffer of the old guest by construction.
// The price: the -t listeners exist only while a guest is connected (a
// connection to a forwarded port between two guests is refused), and
// listeners on ports below 1024 cannot be opened, since the guest process
// has no capability in the host's user namespace. The supervisor stays
// outside the sandbox but only accepts connections and waits for children.
//
// # The guest's socket
//
// The supervisor sets 16 MiB send and receive buffers on each guest
// connection (SO_SNDBUFFORCE when root, else SO_SNDBUF within wmem_max):
// the default ~208 KiB holds three 65520-byte frames, and the engine would
// drop frames as tap_full while qemu drains them (1 MB/s instead of ~100
// MB/s for a download under TCG). Bad input on the stream is the engine's
// and tap.Stream's business: malformed frames are dropped and counted in
// the stats line; a length of 0 or above 65535 ends the connection with the
// reason logged ("closing the guest connection: ..."), and the supervisor
// waits for the next guest.
//
// Only a build with -tags seccompdebug reads GOPASST_SECCOMP=trap|log
// (sandbox.ActionFromEnv), which changes the filter's action in the guest
// process to find a syscall missing from the profile.
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
// returns the exit status. The re-executed roles (daemon, guest process)
// are told apart by the environment (Reexecuted) and get the same args.
func Main(args []string) int {
	if sandbox.Stage() == stageGuest {
		return guestMain(args)
	}
	if err := sandbox.Initial(); err != nil {
		fmt.Fprintln(os.Stderr, "passt:", err)
		return 1
	}
	cfg, code, ok := parse(args)
	if !ok {
		return code
	}
	if os.Getenv(envStage) == stageDaemon {
		return daemonMain(cfg, args)
	}
	return launch(cfg, args)
}

// Reexecuted reports whether this process is one of passt's re-executed
// roles (the daemon or a guest process): whatever argv[0] says, it must
// run as passt.
func Reexecuted() bool {
	return sandbox.Stage() == stageGuest || os.Getenv(envStage) == stageDaemon
}

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
		fmt.Print(conf.Capabilities())
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
