// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"gopasst/policy"
	"gopasst/sandbox"
)

// Plan is what the launcher (the process the user started) must do before
// the engine can run: which re-execution of pasta, if any, stands between
// it and the engine. See "Theory of operation".
type Plan struct {
	// NewUserNS: pasta -- COMMAND without root. The engine runs in a new
	// user namespace where our uid and gid map to 0, so that it may
	// create the command's namespaces and enter its network namespace,
	// while its sockets stay in the host's network namespace.
	NewUserNS bool
	// JoinUserNS is a user namespace file the engine must be in before it
	// can enter the target network namespace (rootless pasta PID, or
	// --userns). A Go process cannot join a user namespace (it is always
	// multi-threaded), so util-linux nsenter, a single-threaded C
	// program, joins it and executes pasta.
	JoinUserNS string
	// Daemon: the engine runs in the background (without -f, when
	// joining a namespace); the launcher returns once it is ready.
	Daemon bool
	// Isolate: the engine runs in new mount, IPC and UTS namespaces, for
	// the sandbox (sandbox.Enter pivots to an empty root in its own mount
	// namespace). A Go process cannot unshare them in place, so the
	// engine is always a re-executed process; MakePlan always sets it.
	// With JoinUserNS, unshare(1) creates them after nsenter has joined
	// the user namespace; otherwise they come from the clone flags.
	Isolate bool
	// PassEnv names environment variables the engine keeps besides
	// TapOffloadEnv (the engine starts with an environment of its own),
	// such as tcp.PeekOffsetEnv.
	PassEnv []string
}

// Reexec reports whether the launcher must start an engine process rather
// than run the engine itself.
func (p Plan) Reexec() bool { return p.NewUserNS || p.JoinUserNS != "" || p.Daemon || p.Isolate }

// isolateFlags are the namespaces the engine gets with Plan.Isolate.
const isolateFlags = syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS

// MakePlan decides how to reach cfg's target from here.
func MakePlan(cfg *policy.Config) (Plan, error) {
	paths, err := ResolvePaths(cfg)
	if err != nil {
		return Plan{}, err
	}
	pl, err := makePlan(paths, cfg.Foreground, os.Geteuid(), isInitialUserNS(), sameUserNS)
	if err != nil {
		return Plan{}, err
	}
	if err := requireTools(pl.Tools()); err != nil {
		return Plan{}, fmt.Errorf("joining user namespace %s: %w", pl.JoinUserNS, err)
	}
	return pl, nil
}

// Tools returns the programs from PATH that Start runs for the plan:
// util-linux nsenter and unshare when joining a user namespace, none
// otherwise.
func (p Plan) Tools() []string {
	if p.JoinUserNS == "" {
		return nil
	}
	if p.Isolate {
		return []string{"nsenter", "unshare"}
	}
	return []string{"nsenter"}
}

// requireTools checks that every program in names is in PATH, so that a
// missing one stops pasta before it does anything, with their names.
func requireTools(names []string) error {
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not found in PATH: needs %s from util-linux",
			strings.Join(missing, " and "), strings.Join(names, " and "))
	}
	return nil
}

func makePlan(p Paths, foreground bool, euid int, initUserNS bool, same func(string) bool) (Plan, error) {
	pl := Plan{Isolate: true}
	if p.Spawn() {
		// Root creates the command's user namespace itself, in Spawn.
		pl.NewUserNS = euid != 0
		return pl, nil
	}
	// Root in the initial user namespace has every capability over every
	// namespace: no need to join the user namespace.
	if p.User != "" && !(euid == 0 && initUserNS) && !same(p.User) {
		pl.JoinUserNS = p.User
	}
	pl.Daemon = !foreground
	return pl, nil
}

// InitialUserNS reports whether we run in the initial user namespace,
// whose uid_map is the identity over the whole range.
func InitialUserNS() bool { return isInitialUserNS() }

func isInitialUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}

// sameUserNS reports whether path is our own user namespace (nsenter and
// setns refuse to enter the namespace one is already in).
func sameUserNS(path string) bool {
	var a, b syscall.Stat_t
	if syscall.Stat(path, &a) != nil || syscall.Stat("/proc/self/ns/user", &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// Child is an engine process started by the launcher.
type Child struct {
	cmd     *exec.Cmd
	stopFwd func()   // foreground: stops forwarding signals
	sigPipe *os.File // foreground: write end of the signal pipe (relaySignals)
	ready   *os.File // read end of the readiness pipe; nil unless Daemon
}

// Start starts the engine process for the plan, with args as its command
// line (os.Args[1:]; the engine parses it again).
func (p Plan) Start(args []string) (*Child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	env := append([]string{StageEnv + "=" + StageEngine}, sandbox.DebugEnv()...)
	for _, k := range append([]string{TapOffloadEnv}, p.PassEnv...) {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	cmd := &exec.Cmd{Path: self, Args: append([]string{"pasta"}, args...)}
	attr := &syscall.SysProcAttr{}
	if p.JoinUserNS != "" {
		nsenter, err := exec.LookPath("nsenter")
		if err != nil {
			return nil, fmt.Errorf("joining user namespace %s needs nsenter (util-linux): %w", p.JoinUserNS, err)
		}
		argv := []string{"nsenter", "--user=" + p.JoinUserNS, "--preserve-credentials", "--no-fork", "--"}
		if p.Isolate {
			// nsenter only joins namespaces. Once it has joined the
			// user namespace, where the engine is root, unshare(1) (a
			// single-threaded C program too) creates the engine's own
			// namespaces and executes pasta in place: the PID stays
			// the daemon's, as with nsenter --no-fork.
			unshare, err := exec.LookPath("unshare")
			if err != nil {
				return nil, fmt.Errorf("joining user namespace %s needs unshare (util-linux): %w", p.JoinUserNS, err)
			}
			argv = append(argv, unshare, "--mount", "--ipc", "--uts", "--")
		}
		cmd.Path = nsenter
		cmd.Args = append(append(argv, self), args...)
	} else if p.Isolate {
		attr.Cloneflags |= isolateFlags
	}
	if p.NewUserNS {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		env = append(env, ownUserNSEnv+"=1")
	}
	c := &Child{cmd: cmd}
	if p.Daemon {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("readiness pipe: %w", err)
		}
		defer w.Close()
		c.ready = r
		cmd.ExtraFiles = []*os.File{w}
		env = append(env, readyFdEnv+"=3")
		attr.Setsid = true
		// Stdin, Stdout and Stderr stay nil: /dev/null.
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		attr.Pdeathsig = syscall.SIGKILL
		// Signals go to the engine through a pipe (relaySignals): the
		// launcher confines itself and may give up root.
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("signal pipe: %w", err)
		}
		defer r.Close()
		c.sigPipe = w
		env = append(env, signalFdEnv+"="+strconv.Itoa(3+len(cmd.ExtraFiles)))
		cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	}
	if p.Isolate {
		// The engine proves with it (sandbox.VerifyStage) that it is
		// this re-exec, in mount namespaces of its own, before it
		// pivots to the empty root.
		proofEnv, proof, err := sandbox.StageProof(3 + len(cmd.ExtraFiles))
		if err != nil {
			if c.ready != nil {
				c.ready.Close()
			}
			if c.sigPipe != nil {
				c.sigPipe.Close()
			}
			return nil, err
		}
		defer proof.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, proof)
		env = append(env, proofEnv)
	}
	cmd.Env = childEnv(env...)
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		if c.ready != nil {
			c.ready.Close()
		}
		if c.sigPipe != nil {
			c.sigPipe.Close()
		}
		if p.Isolate && p.JoinUserNS == "" && errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("start pasta in new mount, IPC and UTS namespaces (needs CAP_SYS_ADMIN): %w", err)
		}
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	if c.sigPipe != nil {
		c.stopFwd = relaySignals(c.sigPipe)
	}
	return c, nil
}

// Pid returns the engine's PID (nsenter --no-fork executes pasta in place,
// so it is the daemon's PID also then).
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// WaitReady waits until a daemon engine reports that the namespace is
// configured and the engine runs. If the engine fails first, it returns the
// engine's error message.
func (c *Child) WaitReady() error {
	if c.ready == nil {
		return nil
	}
	msg, err := io.ReadAll(io.LimitReader(c.ready, 4096))
	c.ready.Close()
	c.ready = nil
	if err != nil {
		return fmt.Errorf("wait for pasta to be ready: %w", err)
	}
	if len(msg) > 0 && msg[0] == readyOK {
		return nil
	}
	// Failed: collect the exit status so that no zombie is left.
	c.cmd.Wait()
	if len(msg) > 1 && msg[0] == readyFail {
		return errors.New(string(bytes.TrimSpace(msg[1:])))
	}
	return fmt.Errorf("pasta exited before it was ready (status %d)", ExitStatus(c.cmd.ProcessState))
}

// Kill kills the engine.
func (c *Child) Kill() { c.cmd.Process.Kill() }

// Wait waits for the engine and returns its exit status. A foreground
// engine gets SIGTERM, SIGINT and SIGHUP forwarded from Start on.
func (c *Child) Wait() int {
	c.cmd.Wait()
	if c.stopFwd != nil {
		c.stopFwd()
	}
	return ExitStatus(c.cmd.ProcessState)
}

// Readiness messages on the readiness pipe: readyOK alone, or readyFail
// followed by the error text.
const (
	readyOK   = 0
	readyFail = 'E'
)

// Daemonized reports whether this engine was started as a daemon, whose
// launcher waits for Ready.
func Daemonized() bool { return os.Getenv(readyFdEnv) != "" }

// Ready tells a waiting launcher that the engine runs (err nil) or failed.
// Without a launcher waiting it does nothing. Call it once.
func Ready(err error) {
	v := os.Getenv(readyFdEnv)
	if v == "" {
		return
	}
	os.Unsetenv(readyFdEnv)
	fd, convErr := strconv.Atoi(v)
	if convErr != nil || fd < 3 {
		return
	}
	f := os.NewFile(uintptr(fd), "ready")
	if f == nil {
		return
	}
	defer f.Close()
	if err == nil {
		f.Write([]byte{readyOK})
		return
	}
	f.Write(append([]byte{readyFail}, err.Error()...))
}
