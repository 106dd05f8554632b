// SPDX-License-Identifier: GPL-2.0-or-later

// Command pasta is gopasst's pasta mode: the engine behind a tap device in
// a network namespace, either new ones around COMMAND or an existing one.
//
//	pasta [OPTION]... [--] [COMMAND [ARG]...]
//	pasta [OPTION]... PID
//	pasta [OPTION]... --netns PATH|NAME [--userns PATH]
//
// The same binary runs as several processes (launcher, engine, nsinit);
// package netns explains which and why. This is the only place that exits.
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
//  3. Setup in the engine, privileged and with the file system: log file,
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
// GOPASST_SECCOMP=trap|log (sandbox.ActionEnv) is a hidden debugging switch
// for the filter's action on a syscall outside the profile: trap gives a
// Go traceback, log allows everything and only logs it. "log" is UNSAFE:
// it disables the filter in all but name.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"gopasst/conf"
	"gopasst/guest"
	"gopasst/netns"
	"gopasst/policy"
	"gopasst/sandbox"
)

func main() {
	os.Exit(run())
}

func run() int {
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
	cfg, err := conf.Parse(policy.ModePasta, os.Args[1:])
	switch {
	case errors.Is(err, conf.ErrHelp):
		fmt.Print(conf.Usage(policy.ModePasta))
		return 0
	case errors.Is(err, conf.ErrVersion):
		fmt.Print(conf.Version(policy.ModePasta))
		return 0
	case errors.Is(err, conf.ErrCapabilities):
		fmt.Print(conf.Capabilities())
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
		plan, err := netns.MakePlan(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pasta:", err)
			return 1
		}
		if plan.Reexec() {
			return launch(cfg, plan)
		}
	}
	return engineMain(cfg)
}

// launch starts the engine process and waits for it: until it is ready
// for a daemon, until it ends otherwise.
func launch(cfg *policy.Config, plan netns.Plan) int {
	child, err := plan.Start(os.Args[1:])
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

// engineMain reaches the namespace, creates and configures the tap, starts
// the engine and waits: for the command (spawn), or for the namespace to
// go away.
func engineMain(cfg *policy.Config) int {
	var target *netns.Target
	fail := func(err error) int {
		netns.Ready(err)
		fmt.Fprintln(os.Stderr, "pasta:", err)
		if target != nil {
			target.Close()
		}
		return 1
	}
	log, closeLog, err := newLogger(cfg)
	if err != nil {
		return fail(err)
	}
	defer closeLog()
	paths, err := netns.ResolvePaths(cfg)
	if err != nil {
		return fail(err)
	}
	var mac net.HardwareAddr
	if cfg.NsMAC != "" {
		if mac, err = net.ParseMAC(cfg.NsMAC); err != nil || len(mac) != 6 {
			return fail(fmt.Errorf("--ns-mac-addr: invalid MAC address %q", cfg.NsMAC))
		}
	}
	// The host's view, read before any namespace is touched.
	host, err := guest.HostInfoFromKernel(cfg.Interface)
	if err != nil {
		return fail(err)
	}
	gnet, err := guest.Resolve(cfg, host)
	if err != nil {
		return fail(err)
	}
	// Decided before any namespace work, while /etc is reachable.
	action, err := sandbox.ActionFromEnv()
	if err != nil {
		return fail(err)
	}
	runAs, err := runAsIDs(cfg, os.Geteuid() == 0, netns.InitialUserNS(), paths.Spawn(),
		func(msg string) { log.Warn(msg) })
	if err != nil {
		return fail(err)
	}
	mtu := netns.DefaultMTU
	if cfg.MTUSet {
		mtu = cfg.MTU // 0: leave the kernel's default
	}
	ifname := cfg.NsIfname
	if ifname == "" {
		ifname = host.V4.Ifname
	}
	if ifname == "" {
		ifname = host.V6.Ifname
	}
	if ifname == "" {
		ifname = netns.DefaultIfname
	}

	if paths.Spawn() {
		target, err = netns.Spawn(cfg, cfg.Command)
	} else {
		target, err = netns.Join(cfg)
	}
	if err != nil {
		return fail(err)
	}
	fd, ifname, err := netns.OpenTap(target.Worker(), ifname, mtu, mac)
	if err != nil {
		return fail(err)
	}
	// Address frames to the tap's MAC from the start: a guest that has not
	// sent anything yet ignores frames to broadcast (a -t SYN, say).
	if hw, err := netns.LinkMAC(target.Worker(), ifname); err != nil {
		return fail(err)
	} else if len(hw) == len(gnet.GuestMAC) {
		copy(gnet.GuestMAC[:], hw)
	}
	if err := netns.ConfigureNet(target.Worker(), ifname, gnet, cfg.ConfigNet); err != nil {
		return fail(err)
	}
	var quit *netns.QuitWatcher
	if !cfg.NoNetNSQuit {
		if quit, err = netns.WatchQuit(paths); err != nil {
			return fail(err)
		}
	}
	eng, err := newEngine(cfg, gnet, target.Worker(), fd, log)
	if err != nil {
		return fail(err)
	}
	if cfg.PidFile != "" && !netns.Daemonized() {
		if err := writePidFile(cfg.PidFile, os.Getpid()); err != nil {
			return fail(err)
		}
	}
	sigs := make(chan os.Signal, 1)
	if !target.Spawned() {
		// A spawned command gets these forwarded instead (netns.Spawn).
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	}
	if err := enterSandbox(cfg, target, action, runAs, log); err != nil {
		return fail(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engineErr := make(chan error, 1)
	go func() { engineErr <- eng.Run(ctx) }()
	log.Debug("tap ready", "ifname", ifname, "namespace", paths.Net)

	netns.Ready(nil)
	if err := target.Release(); err != nil {
		return fail(err)
	}

	if target.Spawned() {
		status := make(chan int, 1)
		go func() { status <- target.Wait() }()
		select {
		case s := <-status:
			return s
		case err := <-engineErr:
			fmt.Fprintln(os.Stderr, "pasta:", err)
			target.Close()
			return 1
		}
	}
	var gone <-chan struct{}
	if quit != nil {
		gone = quit.Done()
	}
	select {
	case <-gone:
		log.Info("target namespace gone, exiting")
		return 0
	case <-sigs:
		return 0
	case err := <-engineErr:
		if err != nil {
			log.Error(err.Error())
			return 1
		}
		return 0
	}
}

// enterSandbox confines the engine for good (sandbox.Enter): everything
// the event loop, the quit watcher and the wait for the command need
// exists by now. No capability is kept: the worker thread is already in
// the target namespace, and every listener is open.
func enterSandbox(cfg *policy.Config, target *netns.Target, action sandbox.Action, runAs *sandbox.IDs, log *slog.Logger) error {
	if action != sandbox.ActionKill {
		log.Warn("seccomp action is not kill: for debugging only", "action", action.String(), "variable", sandbox.ActionEnv)
	}
	if err := sandbox.Enter(policy.ModePasta, sandbox.Options{Action: action, RunAs: runAs}); err != nil {
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
