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
// connect, and the waiter filter of seccomp.profile (sections [runtime]
// and [waiter], for all nine architectures like the daemons' filters)
// that allows the Go runtime, the netpoller, write, the wait and signal
// calls and nothing else: no open/openat, no execve, no socket.
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
// Release builds have no switch that weakens the filter: Action has one
// value, ActionKill, and ActionFromEnv returns it whatever the environment
// says. A debugging build (go build -tags seccompdebug, action_debug.go)
// adds ActionTrap and ActionLog and the one variable that selects them,
// ActionEnv (GOPASST_SECCOMP=kill|trap|log), which both daemons read with
// ActionFromEnv and pass on to the processes they start (DebugEnv). "log"
// is UNSAFE (everything is allowed and merely logged); use it only to
// discover a missing syscall. A test builds the release daemons and checks
// that the variable's name is not in them.
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
// the reason, per section: [runtime] (the Go runtime and netpoller, in
// every mode), [common] (the daemons' data path), [passt], [pasta], and
// [waiter] (the launchers' wait and signal calls); mode passt is
// [runtime]+[common]+[passt], pasta likewise, waiter is [runtime]+[waiter]
// (ConfineWaiter). Argument checks are kept where cheap (socket families,
// ioctl and fcntl commands, clone flags, futex operations,
// prctl(PR_SET_VMA)). cmd/seccompgen compiles it into
// filters/seccomp_<mode>_<goarch>.bpf for the nine Debian release
// architectures (amd64, arm64, arm = armhf, 386 = i386, ppc64le = ppc64el,
// s390x, riscv64, mips64le = mips64el, loong64); seccomp_<goarch>.go embeds
// those of the GOARCH being built, so every architecture builds with
// CGO_ENABLED=0 and the daemons stay pure Go (seccomp_noarch.go: any other
// architecture has no program, and Enter and ConfineWaiter fail). Default and
// wrong-architecture action: SECCOMP_RET_KILL_PROCESS. In a seccompdebug
// build Options.Action switches a loaded program to TRAP (a Go traceback
// names the offending call) or LOG (allow and log: unsafe, for discovery)
// by patching those return instructions.
//
// Architectures differ, and the profile says how (arch qualifiers, see
// package profile): the asm-generic table of arm64, riscv64 and loong64
// has no open, fork or epoll_wait; 32-bit arm and 386 use mmap2, fcntl64,
// _llseek, ftruncate64 and futex_time64; the Go runtime's clone flags are
// 0x50f00 everywhere but amd64 (0xd0f00, with CLONE_SETTLS) and s390x
// passes them as the second argument; a new thread calls set_thread_area
// on 386; ioctl numbers differ on ppc64le and mips64le. On 386 Go makes
// its socket calls through socketcall, whose arguments sit behind a
// pointer: there the filter allows the socket calls but cannot check the
// socket family. libseccomp (2.5.4, Debian 12) compiles amd64, arm64,
// arm, riscv64 and mips64le; cmd/seccompgen's pure-Go emitter compiles
// loong64 (unknown to 2.5.4) and 386, ppc64le and s390x (where libseccomp
// rewrites socket rules into socketcall ones and refuses their argument
// checks). Each program is written in its architecture's byte order.
//
// Tests: the programs of every architecture are run in
// golang.org/x/net/bpf's VM against the profile's own pure-Go evaluator
// for that architecture (AUDIT_ARCH, syscall numbers from
// golang.org/x/sys, constants, 32- or 64-bit argument comparisons, byte
// order), whatever the build host; cmd/seccompgen's test fails when any
// checked-in program is stale; TestRuntimeSyscallsCovered reads the Go
// runtime's syscall list of every architecture (runtime/sys_linux_*.s,
// internal/runtime/syscall/linux) and fails on one the profile neither
// allows there nor explains, so a Go upgrade that adds a runtime syscall
// is noticed on every architecture; the integration tests run cmd/sandboxprobe
// under KILL_PROCESS and inspect it from outside. ./dev cross builds the
// daemons for all nine architectures and runs the arm64 one under
// qemu-user (everything before the filter: the filter itself needs a real
// kernel of that architecture).
//
// # Limits
//
// Only the amd64 filters run on a real kernel in CI (386 could on an amd64
// kernel with IA32 emulation; the CI machine's has none); the others are
// checked in the BPF VM against the profile, and arm64 and s390x also
// embed and decode theirs under qemu-user. On 386 the socket family is not
// checked (socketcall, above).
// Joining an existing user namespace
// (pasta --userns) is impossible from Go once the runtime runs and is not
// handled here.
package sandbox
