// SPDX-License-Identifier: GPL-2.0-or-later

// Package pasta is gopasst's pasta mode: the engine behind a tap device in
// a network namespace, either new ones around COMMAND or an existing one.
//
//	pasta [OPTION]... [--] [COMMAND [ARG]...]
//	pasta [OPTION]... PID
//	pasta [OPTION]... --netns PATH|NAME [--userns PATH]
//
// The same binary runs as several processes (launcher, engine, nsinit);
// package netns explains which and why. Main returns the exit status;
// cmd/passt's main (and the developer build cmd/pasta) exits with it.
//
// # Sandbox
//
// The engine process goes through package sandbox's stages, in this order:
//
//  1. sandbox.Initial, first thing in the launcher and in the engine: every
//     inherited fd ≥ 3 close-on-exec, RLIMIT_NOFILE soft = hard.
//  2. The launcher always re-executes the engine (netns.Plan.Isolate) into
//     new mount, IPC and UTS namespaces: by clone flags, together with
//     the new user namespace when rootless, without one as root (which
//     must stay in the initial user namespace to bind low ports and enter
//     any network namespace), or through "nsenter --user ... unshare
//     --mount --ipc --uts" when joining a user namespace.
//  3. Setup in the engine, privileged and with the file system: log file
//     (or, for a daemon without -l, the system log socket; package logging),
//     host discovery, --runas lookup, reaching the target (Spawn, whose
//     nsinit is our child so that we can wait for it, or Join: the
//     namespace worker thread setns'es now), tap, netlink configuration,
//     quit watcher (pidfd or inotify), pcap file, the engine's epoll and
//     eventfd, TCP listeners on both sides (-t on the host, -T on the
//     worker), the PID file, signal handlers.
//  4. sandbox.Enter right before the event loop: empty root, no core
//     dumps, not dumpable, bounding set cleared, --runas switch (root in
//     the initial user namespace only; default nobody, except with a
//     spawned command), no capabilities at all, no_new_privs, seccomp.
//  5. The event loop starts, then the launcher hears "ready" and the
//     command is released.
//
// The launcher itself, when it stays (in the foreground: it waits for the
// engine and relays SIGTERM, SIGINT and SIGHUP to it through a pipe),
// confines itself right after starting the engine: as root it becomes
// nobody (sandbox.BecomeUser), then sandbox.ConfineWaiter (no capability,
// Landlock without file system or network access, a seccomp filter that
// allows waiting and writing and kills on anything else). A daemon's
// launcher exits once the engine is ready. The engine proves first thing
// that it is the launcher's re-exec (sandbox.VerifyStage): GOPASST_STAGE
// alone is refused.
//
// Only a build with -tags seccompdebug reads GOPASST_SECCOMP=trap|log
// (sandbox.ActionFromEnv), the debugging switch for the filter's action on
// a syscall outside the profile: trap gives a Go traceback, log allows
// everything and only logs it. A release build has no such switch.
package pasta

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"gopasst/conf"
	"gopasst/netns"
	"gopasst/policy"
	"gopasst/proto/tcp"
	"gopasst/sandbox"
)

// Main runs pasta with args, the command line without argv[0], and
// returns the exit status. The re-executed stages (netns.Stage) are
// pasta's whatever argv[0] says.
func Main(args []string) int {
	if netns.Stage() == netns.StageNsinit {
		err := netns.NsInit(os.Args)
		fmt.Fprintln(os.Stderr, "pasta:", err)
		return 127
	}
	if netns.Stage() == netns.StageEngine {
		// First thing: the stage variable is only a claim (see
		// sandbox.VerifyStage).
		if err := sandbox.VerifyStage(); err != nil {
			fmt.Fprintln(os.Stderr, "pasta: refusing to run as the engine stage:", err)
			return 1
		}
		netns.ReceiveSignals()
	}
	if err := sandbox.Initial(); err != nil {
		fmt.Fprintln(os.Stderr, "pasta:", err)
		return 1
	}
	cfg, err := conf.Parse(policy.ModePasta, args)
	switch {
	case errors.Is(err, conf.ErrHelp):
		fmt.Print(conf.Usage(policy.ModePasta))
		return 0
	case errors.Is(err, conf.ErrVersion):
		fmt.Print(conf.Version(policy.ModePasta))
		return 0
	case errors.Is(err, conf.ErrCapabilities):
		fmt.Fprint(os.Stderr, conf.Capabilities()) // on stderr, as passt's vu_print_capabilities()
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "pasta:", err)
		return 1
	}
	if u := conf.Unsupported(cfg); len(u) > 0 {
		fmt.Fprintf(os.Stderr, "pasta: %s: not yet supported\n", strings.Join(u, ", "))
		return 1
	}
	if netns.Stage() == netns.StageLaunch {
		if err := checkRunAs(cfg, os.Geteuid(), os.Getegid(), netns.InitialUserNS()); err != nil {
			fmt.Fprintln(os.Stderr, "pasta:", err)
			return 1
		}
		plan, err := netns.MakePlan(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pasta:", err)
			return 1
		}
		plan.PassEnv = []string{tcp.PeekOffsetEnv}
		if plan.Reexec() {
			return launch(cfg, plan, args)
		}
	}
	return engineMain(cfg)
}

// launch starts the engine process and waits for it: until it is ready
// for a daemon, until it ends otherwise.
func launch(cfg *policy.Config, plan netns.Plan, args []string) int {
	child, err := plan.Start(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pasta:", err)
		return 1
	}
	if !plan.Daemon {
		if err := confineLauncher(); err != nil {
			fmt.Fprintln(os.Stderr, "pasta:", err)
			child.Kill()
			child.Wait()
			return 1
		}
		return child.Wait()
	}
	if err := child.WaitReady(); err != nil {
		fmt.Fprintln(os.Stderr, "pasta:", err)
		return 1
	}
	if cfg.PidFile != "" {
		if err := writePidFile(cfg.PidFile, child.Pid()); err != nil {
			fmt.Fprintln(os.Stderr, "pasta:", err)
			syscall.Kill(child.Pid(), syscall.SIGTERM)
			return 1
		}
	}
	return 0
}

// confineLauncher confines the foreground launcher, which from now on
// only waits for the engine and relays signals to it through a pipe: as
// root it becomes nobody (it needs no privilege to wait for its child),
// then no capability, no file or network access (Landlock), and a seccomp
// filter that allows waiting and writing (sandbox.ConfineWaiter).
func confineLauncher() error {
	if os.Geteuid() == 0 {
		if err := sandbox.BecomeUser(sandbox.IDs{UID: nobodyID, GID: nobodyID}); err != nil {
			return err
		}
	}
	return sandbox.ConfineWaiter()
}

// enterSandbox confines the engine for good (sandbox.Enter): everything
// the event loop, the quit watcher and the wait for the command need
// exists by now. No capability is kept: the worker thread is already in
// the target namespace, and every listener is open.
func enterSandbox(cfg *policy.Config, target *netns.Target, action sandbox.Action, runAs *sandbox.IDs, log *slog.Logger) error {
	if action != sandbox.ActionKill {
		log.Warn("seccomp action is not kill: a seccompdebug build, for debugging only", "action", action.String())
	}
	if err := sandbox.Enter(policy.ModePasta, sandbox.Options{Action: action, RunAs: runAs, ChrootFallback: cfg.ChrootFallback}); err != nil {
		return err
	}
	st := sandbox.Status()
	args := []any{"seccomp", st.Action.String(), "instructions", st.Instructions, "kept_caps", st.KeptCaps}
	if st.RunAs != nil {
		args = append(args, "uid", st.RunAs.UID, "gid", st.RunAs.GID)
	}
	log.Debug("sandbox entered", args...)
	return nil
}

func writePidFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write PID file: %w", err)
	}
	return nil
}
