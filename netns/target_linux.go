// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"

	"gopasst/policy"
)

// Target is the network namespace pasta serves, and how it got there: a
// command it spawned in new namespaces (Spawn), or a namespace it joined
// (Join). Its methods are not safe for concurrent use, except Worker.
type Target struct {
	// Paths says which namespace files the target is made of.
	Paths Paths

	worker  *Worker
	cmd     *exec.Cmd    // Spawn: the nsinit process, later COMMAND
	release *os.File     // Spawn: write end of nsinit's release pipe
	stopFwd func()       // Spawn: stops forwarding signals to the command
	killed  atomic.Int32 // Spawn: the signal relayed when pasta had to kill the command, or 0
}

// Spawn starts COMMAND (args; default $SHELL, else /bin/sh, as a login
// shell) in new network, mount, UTS, IPC and PID namespaces, and in a new
// user namespace mapping 0 to our uid and gid unless the launcher already
// made one for us. The command waits until Release; its network namespace
// is reachable through Worker at once. From now until the command ends,
// SIGTERM, SIGINT and SIGHUP to pasta are forwarded to it; if it is still
// running half a second later (as PID 1 of its namespace, it does not even
// see a signal it has no handler for), it is killed, and with it every
// process of its PID namespace; Wait then reports 128 + the signal relayed.
func Spawn(cfg *policy.Config, args []string) (*Target, error) {
	path, argv, err := commandLine(args)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("release pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: append([]string{"pasta-nsinit", path}, argv...),
	}
	cmd.Env = childEnv(StageEnv + "=" + StageNsinit)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID,
		Pdeathsig: syscall.SIGKILL,
	}
	if os.Getenv(ownUserNSEnv) == "" {
		uid, gid := os.Geteuid(), os.Getegid()
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("spawn %s in new namespaces: %w", path, err)
	}
	r.Close()
	// Forward signals from now on, so that none kills pasta between
	// Release and Wait.
	t := &Target{cmd: cmd, release: w}
	t.stopFwd = forwardSignals(cmd.Process, commandGrace, &t.killed)
	t.Paths.Net = "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	t.Paths.PID = cmd.Process.Pid
	if t.worker, err = NewWorker(t.Paths.Net); err != nil {
		t.kill()
		return nil, err
	}
	return t, nil
}

// commandLine returns the program to run and its argv: args, or the login
// shell ($SHELL, else /bin/sh, with argv[0] "-sh"-style) when args is
// empty, as pasta does.
func commandLine(args []string) (path string, argv []string, err error) {
	if len(args) > 0 {
		if args[0] == "" {
			return "", nil, errors.New("empty command")
		}
		return args[0], args, nil
	}
	sh := os.Getenv("SHELL")
	if sh == "" {
		sh = "/bin/sh"
	}
	return sh, []string{"-" + filepath.Base(sh)}, nil
}

// Join reaches an existing network namespace: PID, --netns PATH|NAME. A
// user namespace to join (PID without --netns-only, or --userns) must have
// been entered already by the launcher (see Plan); Join only enters the
// network namespace, on the worker thread.
func Join(cfg *policy.Config) (*Target, error) {
	p, err := ResolvePaths(cfg)
	if err != nil {
		return nil, err
	}
	if p.Spawn() {
		return nil, errors.New("no namespace to join")
	}
	w, err := NewWorker(p.Net)
	if err != nil {
		return nil, err
	}
	return &Target{Paths: p, worker: w}, nil
}

// Worker returns the worker thread inside the target network namespace.
func (t *Target) Worker() *Worker { return t.worker }

// Spawned reports whether the target is a command pasta spawned.
func (t *Target) Spawned() bool { return t.cmd != nil }

// Pid returns the PID of the spawned command (PID 1 of its namespace, as
// seen from ours), or 0 for a joined namespace.
func (t *Target) Pid() int {
	if t.cmd == nil {
		return 0
	}
	return t.cmd.Process.Pid
}

// Release lets the spawned command run. Call it once the network is
// configured. It does nothing for a joined namespace.
func (t *Target) Release() error {
	if t.release == nil {
		return nil
	}
	_, err := t.release.Write([]byte{1})
	t.release.Close()
	t.release = nil
	if err != nil {
		return fmt.Errorf("release command: %w", err)
	}
	return nil
}

// Wait waits for the spawned command and returns its exit status (128 +
// signal if a signal killed it): 128 + the termination signal relayed to
// it if pasta had to kill it after that signal (see Spawn). For a joined
// namespace it returns 0 at once.
func (t *Target) Wait() (status int) {
	if t.cmd == nil {
		return 0
	}
	t.cmd.Wait()
	t.stopFwd()
	if s := t.killed.Load(); s != 0 {
		return 128 + int(s)
	}
	return ExitStatus(t.cmd.ProcessState)
}

// Close kills a spawned command that was never released and waits for it.
// The worker thread stays: it lives as long as the process.
func (t *Target) Close() error {
	if t.release != nil {
		t.kill()
	}
	return nil
}

func (t *Target) kill() {
	if t.release != nil {
		t.release.Close()
		t.release = nil
	}
	if t.cmd != nil && t.cmd.ProcessState == nil {
		t.cmd.Process.Kill()
		t.cmd.Wait()
		t.stopFwd()
	}
}
