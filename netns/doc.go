// SPDX-License-Identifier: GPL-2.0-or-later

// Package netns brings pasta into its target network namespace: it spawns
// a command in new namespaces or joins existing ones, creates and
// configures the tap device there, manages the processes pasta is made of,
// and tells when the target goes away.
//
// # Theory of operation
//
// Linux changes namespaces per thread, and a Go program is always
// multi-threaded: unshare(CLONE_NEWUSER) and setns into a user namespace
// fail with EINVAL, and setns(CLONE_NEWNET) on an arbitrary goroutine would
// leave a random runtime thread in the wrong namespace. So pasta never
// changes the namespaces of a running process as a whole. New namespaces
// come from clone flags at exec time (os/exec SysProcAttr.Cloneflags with
// UidMappings/GidMappings), user namespaces to join from util-linux nsenter
// (a single-threaded C program) that then executes pasta, and the target
// network namespace is entered by one thread only: the Worker.
//
// The same binary runs as up to three processes, told apart by the
// environment variable GOPASST_STAGE (StageEnv):
//
//   - The launcher (no stage) is what the user started. It always starts
//     the engine as a process of its own (Plan.Start), because the engine
//     must live in new mount, IPC and UTS namespaces for the sandbox
//     (Plan.Isolate; see "Sandbox" below). MakePlan decides how: into a
//     new user namespace as well (rootless pasta -- COMMAND), through
//     nsenter into an existing user namespace (rootless pasta PID,
//     --userns), without a user namespace (root), and as a daemon or not
//     (joining a namespace without -f). A foreground launcher waits for
//     the engine, forwards SIGTERM, SIGINT and SIGHUP, and exits with its
//     status, and does nothing else: once the engine is started it
//     confines itself (cmd/pasta: as root it becomes nobody, then
//     sandbox.ConfineWaiter). Since it may then no longer signal a root
//     engine, it relays the signals through a pipe (GOPASST_SIGNAL_FD),
//     one byte each, and the engine raises them on itself
//     (ReceiveSignals).
//   - The engine (GOPASST_STAGE=engine) reaches the target (Spawn or
//     Join), opens the tap (OpenTap), configures it (ConfigureNet), enters
//     the sandbox, runs the event loop and then either lets the command
//     run (Release) and waits for it (Wait), or waits until the namespace
//     goes away (QuitWatcher).
//   - nsinit (GOPASST_STAGE=nsinit) is started by Spawn with
//     CLONE_NEWNET|NEWNS|NEWUTS|NEWIPC|NEWPID, so it is PID 1 of its PID
//     namespace. It blocks on a pipe until the engine has configured the
//     network, then execve's COMMAND (NsInit), which so becomes PID 1
//     itself. If pasta dies first, the pipe reads EOF and nsinit exits; it
//     also has PR_SET_PDEATHSIG=SIGKILL, as pasta's child does.
//
// Spawning (pasta [--] COMMAND). As root, nsinit also gets CLONE_NEWUSER
// with the maps "0 0 1", setgroups denied. Without root, the launcher first
// starts the engine with CLONE_NEWUSER (plus the sandbox's mount, IPC and
// UTS namespaces, but no network namespace) and the maps "0 UID 1" and
// "0 GID 1": the engine stays in the host's network namespace, so its
// sockets are the host's, but as root of its own user namespace it may
// create nsinit's namespaces (which that user namespace owns) and setns into
// them. Either way COMMAND runs as uid 0 in a user namespace that maps 0 to
// the caller. pasta exits with COMMAND's status, 128+N when signal N killed
// it (ExitStatus).
//
// Joining (pasta PID, --netns PATH|NAME, --userns PATH). PID means
// /proc/PID/ns/net and, unless --netns-only, /proc/PID/ns/user; NAME
// without a slash means /run/netns/NAME (ResolvePaths). setns into a
// network namespace needs CAP_SYS_ADMIN in the user namespace that owns it.
// Root in the initial user namespace has that for every namespace and joins
// no user namespace. Anyone else must first become a member of the owning
// user namespace, which a multi-threaded process cannot do: the launcher
// runs
//
//	nsenter --user=PATH --preserve-credentials --no-fork -- \
//		unshare --mount --ipc --uts -- /path/to/pasta ARGS...
//
// nsenter setns'es into the user namespace while it is single-threaded and
// executes unshare and so pasta in place (--no-fork: the PID stays, so the launcher knows
// the daemon's PID). --preserve-credentials keeps the uid: the user's uid
// is mapped to 0 in a namespace made by "unshare -r" or podman, so across
// execve the engine is root there with a full capability set, enough for
// setns(CLONE_NEWNET) on the worker and for TUNSETIFF; without that flag
// nsenter would call setgroups, which "setgroups deny" refuses. nsenter
// ships with util-linux on every Debian system; the alternative, a cgo
// constructor running before the Go runtime as runc's libcontainer/nsenter
// does, would put cgo into pasta.
//
// The Worker is a goroutine that calls runtime.LockOSThread, setns'es its
// thread into the target network namespace and never unlocks, so that no
// other goroutine ever runs on that thread, and the runtime (which clones
// new threads from a clean template thread while a locked thread exists)
// never spreads the namespace. It runs the functions given to Do: opening
// /dev/net/tun, creating namespace-side sockets, netlink. Descriptors
// created there keep their namespace and may be used from any thread. The
// package's init locks the main goroutine to the main thread, so that the
// worker is never the thread group leader: /proc/PID/ns/net of pasta shows
// the host's namespace, as tools expect. Each Do is a round trip between
// two threads (two futex wake-ups); Pool makes the sockets of spliced
// connections and flows PoolBatch at a time, so that a TCP connection or
// UDP flow from the host's loopback into the namespace does not pay one,
// as passt's ns_sock_pool.
//
// The tap (OpenTap, after tap_ns_tun() in passt) is IFF_TAP|IFF_NO_PI,
// with IFF_VNET_HDR unless TapOffloadEnv (GOPASST_TAP_OFFLOAD, passed by
// the launcher to the engine) is "off" (then the frames carry no
// virtio-net header and the tap has no offloads; see package tap,
// "Offloads"),
// non-blocking, named by -I or else after the host's outbound interface
// (else "tap0"), with MTU -m (default 65520), a transmit queue of
// TxQueueLen frames (the default 1000 overflows at small MTUs), the MAC of
// --ns-mac-addr if given, and accept_ra=1; the tap and lo are set up.
// Netlink goes through github.com/vishvananda/netlink, with a handle made
// by netlink.NewHandle on the worker thread: its socket belongs to the
// target namespace. NewHandleAt is not used: it setns'es back to the
// original namespace, which a rootless engine inside a joined user
// namespace may not do. With --config-net, ConfigureNet copies the guest's
// addresses and prefix lengths (IPv6 with IFA_F_NODAD, so they are usable
// at once, as pasta does) and default routes from a *guest.Net onto the
// tap, and what ReadCopied read from the host's template interface
// beforehand, in the host's namespace (the other addresses and routes,
// as pasta's nl_addr_dup() and nl_route_dup(); routes that depend on one
// another are retried for a few rounds, and those still refused come
// back as warnings). Without it the link is only up, duplicate address detection keeps
// its defaults, and the guest configures itself by DHCP, DHCPv6 and SLAAC
// from gopasst.
//
// Lifecycle as podman expects it. Without -f, joining a namespace, the
// launcher starts the engine as a daemon (Setsid, stdio on /dev/null) with
// the write end of a pipe on fd 3 (GOPASST_READY_FD). The engine writes one
// zero byte once the tap is configured and the event loop runs (Ready), or
// 'E' and the error text; the launcher then writes the daemon's PID to the
// --pid file and exits 0, or prints the error and exits 1. The daemon exits
// by itself when the namespace goes away, unless --no-netns-quit: a
// QuitWatcher holds a pidfd for a process target (pasta PID, or a path
// /proc/PID/...), readable once the process exits, and otherwise an inotify
// descriptor on the namespace file's directory (IN_DELETE and friends, as
// pasta's netns_quit). Its Fd can be polled; Check says whether the
// target is gone, from the inotify events alone (no path resolves in the
// sandbox's empty root); Done wraps both in a channel, which pasta uses.
//
// # Sandbox
//
// The engine is confined by package sandbox before its event loop; the
// stage order is in cmd/internal/pasta's package comment. What this package adds:
//
//   - The new mount, IPC and UTS namespaces come from the clone flags of
//     Plan.Start (CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS, with
//     CLONE_NEWUSER when rootless; root keeps the initial user namespace,
//     from which it may enter any network namespace and bind low ports).
//     nsenter only joins namespaces, so when it joins a user namespace it
//     executes "unshare --mount --ipc --uts -- pasta" (util-linux, single
//     threaded), which creates them as root of the joined namespace and
//     executes pasta in place: the daemon's PID is still the one the
//     launcher started. The engine inherits a sandbox.StageProof, with
//     which it proves first thing (sandbox.VerifyStage) that it is this
//     re-exec in mount namespaces of its own: a forged GOPASST_STAGE alone
//     makes it refuse to run; its environment also carries
//     sandbox.DebugEnv (the seccomp action variable, in a -tags
//     seccompdebug build only). nsinit refuses to run unless it is PID 1
//     (of the PID namespace Spawn made).
//   - Everything that needs a capability, a path or a syscall outside the
//     filter happens before sandbox.Enter: the worker's setns, the tap
//     (TUNSETIFF), netlink configuration, namespace-side listeners (-T,
//     -U), spawning nsinit (whose parent, the engine, waits for it), the
//     pidfd or inotify watch. So the engine keeps no capability at all
//     (CapEff 0, bounding set empty). The worker thread keeps serving Do
//     after Enter, for sockets that need no privilege (socket in the
//     profile; setns is not).
//   - Root in the initial user namespace also switches to --runas, by
//     default nobody, when joining a namespace. Not with a spawned
//     command: the command is root of a user namespace that uid 0 owns,
//     and the engine forwards signals to it and kills it on failure,
//     which it could no longer do as another user; the engine stays uid 0
//     with no capability, and --runas is refused.
//
// # Limits
//
// Rootless joining needs nsenter and unshare (util-linux) in PATH. The user namespace to join must
// map the caller's uid to 0 (as unshare -r and podman do), or the engine
// has no capabilities there. In the new namespaces /proc is not remounted,
// as in pasta.
package netns
