// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Environment variables that carry the re-exec protocol to the child.
const (
	envStage   = "GOPASST_SANDBOX_STAGE"  // stage name given to Reexec
	envFDs     = "GOPASST_SANDBOX_FDS"    // number of inherited files, from fd 3
	nobodyID   = 65534                    // "nobody"/"nogroup" on Debian
	firstFD    = 3                        // os/exec puts ExtraFiles[0] at fd 3
	envPrefix  = "GOPASST_SANDBOX_"       // stripped from a re-exec's inherited environment
	selfExe    = "/proc/self/exe"         // the running binary, even if replaced on disk
	maxInherit = 1 << 16                  // sanity bound on envFDs
	reexecArg0 = "gopasst-sandbox-stage2" // argv[0] of the child unless Args says otherwise
)

// ReexecOptions tune Reexec.
type ReexecOptions struct {
	// Args are argv[1:] of the child; nil means os.Args[1:].
	Args []string
	// Env is added to the parent's environment (minus the protocol
	// variables). Use it to pin GODEBUG or TZ.
	Env []string
	// UserNS creates a new user namespace in which the child is root
	// (passt, and pasta when not already root in the namespace owning
	// the target netns). Without it the child keeps the parent's
	// credentials and capabilities (pasta as root in the right namespace:
	// its netns worker must setns into the target netns later, which needs
	// CAP_SYS_ADMIN in the namespace owning it).
	UserNS bool
	// UID and GID are the outer IDs the child's root maps to, with UserNS
	// (--runas). Zero means the default: nobody/nogroup (65534) when
	// running as root, otherwise the caller's own euid/egid. Outer root is
	// never mapped: it would bring back DAC access to root's files.
	UID, GID uint32
	// Cloneflags are added to CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS (and
	// CLONE_NEWUSER with UserNS), e.g. CLONE_NEWPID. Never CLONE_NEWNET for
	// the daemons: passt and pasta need the host's network.
	Cloneflags uintptr
	// Stdin, Stdout and Stderr of the child; nil means /dev/null.
	Stdin, Stdout, Stderr *os.File
	// Setsid starts the child in a new session (a daemon).
	Setsid bool
	// Pdeathsig is sent to the child when the parent dies. The kernel
	// sends it when the thread that forked exits, so Reexec then locks the
	// calling goroutine to its thread for good (golang/go#27505).
	Pdeathsig syscall.Signal
}

// Reexec starts /proc/self/exe again as the sandboxed stage: in new mount,
// IPC and UTS namespaces (plus a user namespace with opt.UserNS), with
// files at fds 3, 4, ... and stage in the environment, where Stage and
// InheritedFDs find them, and a stage proof (StageProof) after the files,
// which the child checks with VerifyStage first thing. It returns the
// started process; the caller waits for it.
//
// This replaces passt's unshare() calls of isolate_user() and
// isolate_prefork(). Unsharing in place cannot work in Go: the runtime is
// multi-threaded before main, unshare(CLONE_NEWUSER) fails with EINVAL in a
// multi-threaded process, and unshare(CLONE_NEWNS) moves only the calling
// thread. Namespaces created by clone() in the forked child, before execve,
// hold for every thread of the new runtime.
//
// files should be the descriptors opened before the sandbox: listening
// sockets, the tap or qemu socket, pcap and log files. os/exec turns them
// to blocking mode (it calls Fd), and O_NONBLOCK belongs to the open file
// description that parent and child share: InheritedFDs restores it.
// Everything not in files is dropped at execve if Initial ran first.
func Reexec(stage string, files []*os.File, opt ReexecOptions) (*os.Process, error) {
	if stage == "" {
		return nil, fmt.Errorf("re-exec: empty stage name")
	}
	proofEnv, proof, err := StageProof(firstFD + len(files))
	if err != nil {
		return nil, fmt.Errorf("re-exec: %w", err)
	}
	defer proof.Close()
	args := opt.Args
	if args == nil {
		args = os.Args[1:]
	}
	cmd := &exec.Cmd{
		Path:       selfExe,
		Args:       append([]string{reexecArg0}, args...),
		Stdin:      opt.Stdin,
		Stdout:     opt.Stdout,
		Stderr:     opt.Stderr,
		ExtraFiles: append(append([]*os.File(nil), files...), proof),
	}
	if len(os.Args) > 0 {
		cmd.Args[0] = os.Args[0]
	}
	env := make([]string, 0, len(os.Environ())+len(opt.Env)+3)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			env = append(env, kv)
		}
	}
	env = append(env, opt.Env...)
	env = append(env,
		envStage+"="+stage,
		envFDs+"="+strconv.Itoa(len(files)),
		proofEnv)
	cmd.Env = env

	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | opt.Cloneflags,
		Pdeathsig:  opt.Pdeathsig,
		Setsid:     opt.Setsid,
	}
	if opt.UserNS {
		uid, gid := opt.UID, opt.GID
		if uid == 0 {
			uid = defaultOuterID(os.Geteuid())
		}
		if gid == 0 {
			gid = defaultOuterID(os.Getegid())
		}
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(uid), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(gid), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		// Become root of the new namespace: without it, a root parent's
		// child stays at outer uid 0, unmapped, with no capabilities.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	}
	cmd.SysProcAttr = attr
	if opt.Pdeathsig != 0 {
		runtime.LockOSThread() // never unlocked: see Pdeathsig
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("re-exec %s: %w", stage, err)
	}
	return cmd.Process, nil
}

// defaultOuterID maps root to nobody and anyone else to themselves.
func defaultOuterID(id int) uint32 {
	if id == 0 {
		return nobodyID
	}
	return uint32(id)
}

// Stage returns the stage name the process claims to have been
// re-executed with, or "" in the original process. The claim is only the
// environment's: call VerifyStage before acting on it.
func Stage() string { return os.Getenv(envStage) }

var inherited struct {
	once sync.Once
	fds  []int
	err  error
}

// InheritedFDs returns the descriptors handed to Reexec, in order (fd 3,
// 4, ...). On first use it sets O_NONBLOCK (lost when the parent's os/exec
// called Fd) and FD_CLOEXEC on each (O_PATH ones only get FD_CLOEXEC). The result is shared: do not modify it.
func InheritedFDs() ([]int, error) {
	inherited.once.Do(func() {
		s := os.Getenv(envFDs)
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxInherit {
			inherited.err = fmt.Errorf("inherited fds: bad %s=%q", envFDs, s)
			return
		}
		for fd := firstFD; fd < firstFD+n; fd++ {
			// An O_PATH descriptor (a directory to act in) has no
			// file status flags to set.
			if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil && fl&unix.O_PATH != 0 {
				unix.CloseOnExec(fd)
				inherited.fds = append(inherited.fds, fd)
				continue
			}
			if err := unix.SetNonblock(fd, true); err != nil {
				inherited.err = fmt.Errorf("inherited fd %d: %w", fd, err)
				return
			}
			unix.CloseOnExec(fd)
			inherited.fds = append(inherited.fds, fd)
		}
	})
	return inherited.fds, inherited.err
}
