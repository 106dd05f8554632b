# SPDX-License-Identifier: GPL-2.0-or-later
#
# seccomp.profile: the syscall allowlist of gopasst's sandbox, for every
# Debian release architecture (GOARCH amd64, arm64, arm = armhf,
# 386 = i386, ppc64le = ppc64el, s390x, riscv64, mips64le = mips64el,
# loong64).
#
# This file is the source of truth. `go generate ./sandbox` runs
# cmd/seccompgen, which compiles it, once per mode and architecture, into
# sandbox/filters/seccomp_<mode>_<goarch>.bpf (embedded in the daemons of
# that GOARCH) and sandbox/filters/seccomp_<mode>_<goarch>.pfc (for
# review). libseccomp compiles every architecture it knows (2.5.4 lacks
# loong64: that one comes from seccompgen's own pure-Go emitter, checked
# against the same evaluator). A test fails when the checked-in programs
# disagree with this file, so edit here, regenerate, and commit both.
#
# Modes, one filter each:
#   passt   passt's sandboxed process       [runtime] [common] [passt]
#   pasta   pasta's sandboxed engine        [runtime] [common] [pasta]
#   waiter  the foreground launchers that   [runtime] [waiter]
#           only wait for their child (passt -f, pasta with a command)
# [runtime] is what any Go process needs after its filter (the runtime,
# the netpoller, write); [common] the daemons' data path (sockets, event
# loop, timers, files opened before the filter). The waiter mode leaves
# [common] out: a launcher opens nothing, connects nothing, runs nothing.
#
# The passt and pasta filters are installed by sandbox.Enter right before
# the event loop, after every file, socket, epoll fd, timerfd and
# namespace-side thread exists; the waiter filter by sandbox.ConfineWaiter
# once the child runs and the signal handlers are installed. Anything not
# listed kills the whole process (SECCOMP_RET_KILL_PROCESS; a wrong
# architecture too). To find a missing entry, build with
# `-tags seccompdebug` and run with GOPASST_SECCOMP=trap (Go prints a
# traceback naming the call site) or GOPASST_SECCOMP=log (the kernel logs
# "audit: type=1326 ... syscall=N"); release builds have no such switch.
#
# Grammar, one rule a line:
#
#   [section]                   runtime (every mode), common (passt and
#                               pasta), passt, pasta, waiter, denied
#   name [cond ...] [arch] # reason
#                               allow syscall `name`; the reason is mandatory:
#                               say who needs it
#   cond  := argN OP VALUE      N is 0..5; OP is one of == != < <= > >=
#          | argN & MASK == VALUE
#   VALUE := a number (0x.. allowed) or a constant known to
#            sandbox/profile/consts.go; with == several values may be
#            joined with "|", meaning any of them
#   arch  := arch == A|B...     the rule applies only on these GOARCHes
#          | arch != A|B...     the rule applies on all but these
#
# Conditions on one line are AND'ed; several lines for one syscall are
# OR'ed. Within one mode and architecture a syscall is either unconditional
# or conditional. Comparisons are on all 64 bits of the argument on 64-bit
# architectures, on the low 32 bits on arm and 386. Constants take their
# value on each architecture (the ioctl numbers differ on ppc64le and
# mips64le). [denied] documents syscalls that are absent on purpose; the
# tests check each is refused, and allowing one of them is a parse error.
#
# Architectures differ; the rules below say so with arch qualifiers:
#   - names: the asm-generic table (arm64, riscv64, loong64) has no open,
#     fork or epoll_wait; 32-bit arches map memory with mmap2 and use
#     fcntl64, _llseek, ftruncate64, and futex_time64 next to futex;
#     i386 has no direct accept, and Go on i386 makes every socket call
#     through socketcall (whose arguments the filter cannot see).
#   - clone: the Go runtime passes CLONE_VM|FS|FILES|SIGHAND|SYSVSEM|THREAD
#     (0x50f00), plus CLONE_SETTLS on amd64 only; s390x takes the flags as
#     the second argument.
#   - runtime extras: set_thread_area on i386, tkill on riscv64.
# cmd/seccompgen refuses a rule naming a syscall its architecture lacks
# (qualify the rule), and skips such names in [denied].
#
# Argument checks are kept to those that are cheap and cannot misfire:
# values the Go runtime or our code always pass as constants.

[runtime]
# --- Go runtime: scheduler, memory, signals, threads -----------------------
futex arg1 == FUTEX_WAIT_PRIVATE|FUTEX_WAKE_PRIVATE|FUTEX_WAIT|FUTEX_WAKE # Go runtime: locks, notes, park/unpark of Ms (only private WAIT/WAKE in practice)
futex_time64 arg1 == FUTEX_WAIT_PRIVATE|FUTEX_WAKE_PRIVATE|FUTEX_WAIT|FUTEX_WAKE arch == arm|386 # Go runtime on 32-bit: futex with a 64-bit timeout, used when the kernel has it (>= 5.1)
nanosleep             # Go runtime: usleep in sysmon and spinning Ms
sched_yield           # Go runtime: osyield in lock2/stopm
mmap arch != arm|386  # Go runtime: heap arenas, stacks, vgetrandom state; passt --vhost-user: the guest memory regions, MAP_SHARED from the memfds qemu passes
mmap2 arch == arm|386 # Go runtime on 32-bit: mmap with a page offset; passt --vhost-user: guest memory, as mmap
munmap                # Go runtime: sysFree (rare: growing allspans); passt --vhost-user: guest memory, when qemu leaves or sends a new memory table
madvise               # Go runtime: scavenger returning memory (sysUnusedOS)
rt_sigreturn          # Go runtime: return from SIGURG (async preemption) and other handlers
rt_sigprocmask        # Go runtime: minit, thread creation, signal handling
rt_sigaction          # Go runtime: crash output; signal.Notify after the filter
sigaltstack           # Go runtime: minit/unminit of every new M
getpid                # Go runtime: signalM (preemption) = tgkill(getpid(), tid, SIGURG)
gettid                # Go runtime: minit
tgkill                # Go runtime: preemption signals, raise on crash
tkill arch == riscv64 # Go runtime on riscv64: raise on crash uses tkill
clone arg0 == 0xd0f00 arch == amd64 # Go runtime: newosproc, exactly CLONE_VM|FS|FILES|SIGHAND|SYSVSEM|THREAD|SETTLS (amd64 adds SETTLS); any other flag set (fork, new namespaces) is refused
clone arg0 == 0x50f00 arch != amd64|s390x # Go runtime: newosproc, exactly CLONE_VM|FS|FILES|SIGHAND|SYSVSEM|THREAD (runtime/os_linux.go cloneFlags)
clone arg1 == 0x50f00 arch == s390x # Go runtime: as above; s390x passes the stack first and the flags second (CLONE_BACKWARDS2)
set_thread_area arch == 386 # Go runtime on i386: every new thread loads its TLS descriptor (setldt) right after clone
exit                  # Go runtime: a locked goroutine returned, its thread exits
restart_syscall       # kernel: resumes a nanosleep, futex or epoll_pwait with a timeout after SIGSTOP/SIGCONT (without it a stopped daemon dies on SIGCONT)
exit_group            # normal exit and fatal errors
sched_getaffinity     # Go >= 1.25 runtime: GOMAXPROCS updater in sysmon (once a second)
pread64               # Go >= 1.25 runtime: GOMAXPROCS updater reads the cgroup cpu limit through fds opened at start-up; -l file: rotation reads the lines it keeps (logging.File)
prctl arg0 == PR_SET_VMA # Go >= 1.25 runtime: decoratemappings names anonymous mappings (EINVAL without CONFIG_ANON_VMA_NAME)
getrandom             # crypto/rand: vDSO getrandom falls back to the syscall on each new M
clock_gettime         # time.Now when the vDSO is unavailable
gettimeofday          # vDSO fallback, as clock_gettime

# --- Go netpoller, and the event loop's core -------------------------------
epoll_pwait           # Go netpoller; event loop (x/sys EpollWait uses epoll_pwait on amd64)
epoll_ctl             # Go netpoller; event loop: add/modify/remove flows
read                  # netpoller wake-ups; daemons: tap/qemu socket I/O, eventfd and timerfd reads (vhost-user: the kick eventfds)
write                 # error messages, netpoller wake-ups; daemons: tap/qemu socket I/O, vhost-user call and error eventfds, pcap and log file, system log datagrams on the socket connected to /dev/log before the filter
close                 # netpoller; launchers: the child's pidfd after waiting; daemons: closing flows, timerfds and sockets

[common]
# --- event loop ------------------------------------------------------------
epoll_wait arch != arm64|riscv64|loong64 # event loop (older wrappers; the asm-generic table has only epoll_pwait)
readv                 # tap/qemu frames into buffers with headroom
writev                # tap/qemu frames with the 4-byte length, pcap records
fcntl arg1 == F_GETFD|F_SETFD|F_GETFL|F_SETFL|F_GETPIPE_SZ|F_SETPIPE_SZ # O_NONBLOCK/FD_CLOEXEC on new sockets, os.NewFile kind probe, splice pipe sizes
fcntl64 arg1 == F_GETFD|F_SETFD|F_GETFL|F_SETFL|F_GETPIPE_SZ|F_SETPIPE_SZ arch == arm|386 # as fcntl: x/sys and syscall call fcntl64 on 32-bit
ioctl arg1 == SIOCOUTQ|SIOCINQ|FIONBIO # TCP: unacknowledged and readable bytes (passt's window computation); FIONBIO for wrappers that set O_NONBLOCK by ioctl
timerfd_create        # TCP: per-connection timers are created lazily, as in passt
timerfd_settime       # TCP/UDP flow timers
timerfd_gettime       # TCP flow timers
lseek                 # pcap file rewinding; -l file: size before each message, rotation moves the kept lines to the start (logging.File)
_llseek arch == arm|386 # as lseek: Seek on 32-bit
ftruncate             # -l file: rotation cuts the file to the kept lines (logging.File)
ftruncate64 arch == arm|386 # as ftruncate: Ftruncate on 32-bit
fsync                 # log and pcap flush on exit

# --- sockets: TCP, UDP, ICMP echo -----------------------------------------
socket arg0 == AF_INET|AF_INET6 # TCP/UDP flows and ICMP ping sockets towards the host; the netlink and AF_PACKET families are refused
connect               # TCP: outbound connections; UDP: connected flow sockets
bind                  # UDP flows bound to a source; outbound address (-o); re-binding forwarded ports
listen                # TCP: port forwarding listeners (re)opened at run time
accept4               # TCP: inbound connections on forwarded ports; passt: qemu reconnecting
accept arch != 386|s390x # older wrappers of accept4 (i386 and s390x have accept only through socketcall)
getsockopt            # TCP_INFO (window, RTT), SO_ERROR after a non-blocking connect
setsockopt            # SO_REUSEADDR, TCP_NODELAY, IP(V6)_RECVERR, SO_RCVLOWAT, window clamping; vhost-user: SO_RCVTIMEO, SO_SNDTIMEO on the connection
getsockname           # local address of new flows
getpeername           # remote address of accepted connections
shutdown              # TCP: half close (FIN from either side)
recvfrom              # UDP/ICMP datagrams; TCP: MSG_PEEK of unacknowledged data
recvmsg               # UDP with ancillary data (IP_RECVERR errors, destination address); TCP; passt --vhost-user: messages with their fds (SCM_RIGHTS)
recvmmsg              # UDP: batched receive
sendto                # UDP/ICMP datagrams; TCP data
sendmsg               # TCP data with iovecs; UDP with source address
sendmmsg              # UDP: batched send
socketcall arg0 == SYS_SOCKET|SYS_BIND|SYS_CONNECT|SYS_LISTEN|SYS_ACCEPT|SYS_ACCEPT4|SYS_GETSOCKOPT|SYS_SETSOCKOPT|SYS_GETSOCKNAME|SYS_GETPEERNAME|SYS_SHUTDOWN|SYS_RECVFROM|SYS_RECVMSG|SYS_RECVMMSG|SYS_SENDTO|SYS_SENDMSG|SYS_SENDMMSG arch == 386 # i386: x/sys and syscall make the socket calls above through socketcall; its arguments are behind a pointer, so the socket family check cannot apply there

[passt]
socket arg0 == AF_UNIX # passt: the qemu UNIX stream socket, if it is re-created at run time (its listener normally exists before the filter)
epoll_create1         # passt: the one sandboxed process builds a fresh engine (its epoll) for each guest; --vhost-user: the device's own epoll set (connection and kick eventfds)
eventfd2              # passt: the engine's wake-up eventfd, made per guest with the engine
unlinkat              # passt: removes its UNIX socket at exit, relative to the socket directory's O_PATH fd from the launcher (no path resolves in the empty root)

[pasta]
splice                # pasta: spliced loopback connections (namespace <-> host) through pipes
pipe2                 # pasta: pipes for spliced connections, created per connection
socket arg0 == AF_NETLINK arg2 == NETLINK_ROUTE # pasta: route/link/address queries in the namespace worker
waitid                # pasta: waiting for the spawned command (Go os.Process.Wait uses waitid(P_PIDFD))
wait4                 # pasta: waiting for the spawned command (fallback without pidfd)
pidfd_send_signal     # pasta: forwarding a termination signal to the spawned command (os.Process.Signal)
kill                  # pasta: signal fallback without pidfd
ppoll                 # pasta: netns.QuitWatcher.Done waits on the target's pidfd or the inotify fd of its namespace file (x/sys unix.Poll is ppoll)

[waiter]
# The foreground launchers after sandbox.ConfineWaiter (passt -f, pasta
# with a command): [runtime] plus waiting for the child and forwarding
# signals to it. No file, no socket, no exec.
waitid                # os.Process.Wait: waitid(P_PIDFD) on the child's pidfd
wait4                 # os.Process.Wait without pidfd (kernels < 5.4)
pidfd_send_signal     # os.Process.Signal: forwarding a termination signal to the child
kill                  # os.Process.Signal without pidfd; the crash path (raiseproc)

[denied]
openat                # no file is opened after the filter; the root is an empty tmpfs anyway
open                  # as openat
execve                # never runs another program after the filter
execveat              # as execve
setns                 # pasta's namespace worker thread enters the netns before the filter
unshare               # namespaces come from the re-exec, before the filter
mount                 # the empty root is mounted before the filter
umount2               # as mount
pivot_root            # as mount
chroot                # as mount
ptrace                # never
process_vm_readv      # never
process_vm_writev     # never
mprotect              # not used by the pure-Go runtime (cgo only); refusing it keeps W^X
clone3                # the Go runtime uses clone; glibc would try clone3 first
fork                  # no new processes after the filter
vfork                 # as fork
memfd_create          # never
bpf                   # never
userfaultfd           # never
keyctl                # never
add_key               # never
perf_event_open       # never
init_module           # never
finit_module          # never
capset                # capabilities are dropped before the filter
setuid                # identity is fixed before the filter
setgid                # as setuid
uname                 # nothing needs it after start-up
