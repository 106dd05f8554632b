// SPDX-License-Identifier: GPL-2.0-or-later

// Package sandbox confines the passt and pasta daemons: close-on-exec
// hygiene, a re-exec into new namespaces, an empty root, no capabilities,
// no_new_privs and a seccomp allowlist that kills the process on anything
// else.
//
// # Theory of operation
//
// The stages follow passt's isolation.c. Each one is a function with the
// passt counterpart in its doc comment; the mains call them in this order:
//
//  1. Initial (isolate_initial + isolate_fds), first thing in main: every
//     fd ≥ 3 close-on-exec, RLIMIT_NOFILE soft = hard. Nothing is closed:
//     in Go the runtime owns some fds (netpoll epoll and eventfd, cgroup
//     files), and closing them kills the process.
//  2. Setup, still privileged and with the file system: parse the
//     configuration, resolve users, open the tap or the qemu UNIX socket,
//     listeners, pcap and log files.
//  3. Reexec (isolate_user + the unshare of isolate_prefork): start
//     /proc/self/exe again with the opened files at fds 3, 4, ... in new
//     mount, IPC and UTS namespaces, for passt also a new user namespace in
//     which the child is root mapped to --runas or nobody. A Go process
//     cannot unshare these in place: the runtime is multi-threaded before
//     main, unshare(CLONE_NEWUSER) then fails with EINVAL and
//     unshare(CLONE_NEWNS) moves only the calling thread. Namespaces created
//     by clone() before execve hold for every thread. Both modes get their
//     mount namespace this way, so that stage 5 can pivot process-wide.
//     pasta, which must stay in the user namespace owning the target netns,
//     re-executes without a new user namespace when it is root there, and
//     creates them with unshare(1) after nsenter(1) joined a user namespace
//     (with a StageProof of its own). passt's launcher, if root, first
//     gives up root for good (BecomeUser), so that no uid-0 process is
//     left: the child's root then maps to that user.
//  4. In the child: Stage says which stage the environment claims, and
//     VerifyStage, first thing, makes the process prove it (the
//     environment alone proves nothing: anyone can set it): a pipe
//     inherited from the parent must hold the random token the
//     environment names, and the mount namespace must differ from the
//     parent's (/proc/PPID/ns/mnt; from a user namespace of its own, which
//     may not read the parent's, it must be owned by that user namespace,
//     which is not the initial one). EnterEmptyRoot refuses to mount
//     anything otherwise. InheritedFDs returns the files with O_NONBLOCK
//     restored. Everything that needs
//     a file, a new namespace or a capability happens now: epoll, timerfds,
//     signal.Notify, seeding randomness, and pasta's namespace worker thread
//     entering the target netns (setns is not in the filter).
//  5. Enter, right before the event loop, runs the rest in order:
//     EnterEmptyRoot (mount part of isolate_prefork: / rprivate, an empty
//     read-only tmpfs, pivot_root, detach the old root) needs CAP_SYS_ADMIN,
//     so it comes before the capability drop; Limits (isolate_postfork's
//     PR_SET_DUMPABLE 0, plus RLIMIT_CORE 0); DropCaps (clamp_caps and the
//     last capset of isolate_prefork) needs CAP_SETPCAP for the bounding
//     set, so it comes before the filter; with Options.RunAs it switches
//     uid and gid (isolate_user, --runas) between clearing the bounding set
//     and the final capset, since leaving uid 0 empties the permitted set;
//     InstallSeccomp (the filter of isolate_postfork) comes last because
//     the filter refuses mount, capset, setuid and prctl.
//
// A process that must stay in the caller's namespaces, as a user (the
// foreground launchers of passt and pasta, which only wait for their child
// and forward signals), cannot pivot to an empty root nor, unprivileged,
// clear its bounding set. ConfineWaiter gives it instead: no capability,
// not dumpable, Landlock (github.com/landlock-lsm/go-landlock, best effort
// by the kernel's ABI) refusing every file system access and TCP bind and
// connect, and a seccomp filter assembled in Go (waiterProgram, for amd64
// and arm64) that allows the Go runtime, the netpoller, write, the wait
// and signal calls and nothing else: no open/openat, no execve, no socket.
//
// What the daemons keep at run time: no capability (CapEff, CapPrm,
// CapBnd, CapInh and CapAmb all 0 on every thread) in both modes. passt
// keeps CAP_SYS_ADMIN and CAP_NET_BIND_SERVICE for pasta's NS_CALL; the Go
// pasta does not need them: its namespace worker thread entered the target
// netns before Enter and stays there, and the -t/-T listeners, the tap and
// the netlink configuration are done before Enter too. pasta started as
// root in the initial user namespace and joining a namespace also switches
// to --runas (default nobody); with a command it spawned it stays uid 0 so
// that it may still signal it (see package netns). The files kept are the
// tap (or qemu socket), the listeners, the engine's epoll and eventfd, a
// pidfd or inotify fd for pasta's quit watcher and the spawned command,
// log and pcap files, stdio, plus the Go runtime's netpoll epoll and
// eventfd and its cgroup CPU limit files.
//
// ActionEnv (GOPASST_SECCOMP=trap|log, read by ActionFromEnv) is the
// daemons' hidden switch for Options.Action. "log" is UNSAFE (everything is
// allowed and merely logged); use it only to discover a missing syscall.
//
// Every per-thread kernel state is applied to all threads: capabilities and
// no_new_privs through syscall.AllThreadsSyscall (hence CGO_ENABLED=0: it
// returns ENOTSUP in cgo binaries), the filter with
// SECCOMP_FILTER_FLAG_TSYNC. New threads inherit all of it from their
// creator. Per-process state (root, cwd, rlimits, dumpable) needs no care
// as long as no thread ever unshares CLONE_FS or CLONE_NEWNS.
//
// # The filter
//
// seccomp.profile at the repository root lists every allowed syscall with
// the reason, per mode ([common], [passt], [pasta]), with argument checks
// where cheap (socket families, ioctl and fcntl commands, clone flags,
// futex operations, prctl(PR_SET_VMA)). cmd/seccompgen compiles it with
// libseccomp into seccomp_<mode>_amd64.bpf, embedded here, so the daemons
// stay pure Go. Default and wrong-architecture action: SECCOMP_RET_KILL_PROCESS.
// Options.Action switches a loaded program to TRAP (a Go traceback names
// the offending call) or LOG (allow and log: unsafe, for discovery) by
// patching those return instructions.
//
// Tests: the embedded programs are run in golang.org/x/net/bpf's VM against
// the profile's own pure-Go evaluator; cmd/seccompgen's test fails when the
// checked-in programs are stale; the integration tests run cmd/sandboxprobe
// under KILL_PROCESS and inspect it from outside.
//
// # Limits
//
// Only amd64 has a compiled profile; ConfineWaiter's filter covers amd64
// and arm64. Joining an existing user namespace
// (pasta --userns) is impossible from Go once the runtime runs and is not
// handled here.
package sandbox
