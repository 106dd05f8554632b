// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"

	"gopasst/audit"
	"gopasst/cmd/internal/handlers"
	"gopasst/engine"
	"gopasst/guest"
	"gopasst/netns"
	"gopasst/policy"
	"gopasst/proto/tcp"
	"gopasst/sandbox"
	"gopasst/tap"
)

// engineProc is the engine process while it sets up: what each step of
// engineMain decides or opens, in the order the steps fill it in.
type engineProc struct {
	cfg *policy.Config
	log *slog.Logger

	// resolve: decided before any namespace is touched.
	closeLog func()
	paths    netns.Paths
	gnet     *guest.Net       // what the guest is told; GuestMAC updated by tap
	copied   [2]netns.Copied  // --config-net: what the host's template interfaces add (IPv4, IPv6)
	action   sandbox.Action   // seccomp action (GOPASST_SECCOMP)
	runAs    *sandbox.IDs     // --runas, nil to stay
	mac      net.HardwareAddr // --ns-mac-addr, nil for the kernel's
	mtu      int              // of the tap; 0 leaves the kernel's default
	ifname   string           // wanted name; tap sets the one it got
	vnet     bool             // tap offloads (netns.TapOffloadEnv, default on)
	noPeek   bool             // TCP without SO_PEEK_OFF (tcp.PeekOffsetEnv=off)

	target *netns.Target      // reachTarget: spawned or joined namespace
	tapFd  int                // tap: the tap device
	dev    tap.Device         // tap: the device on tapFd, with offloads if vnet
	quit   *netns.QuitWatcher // watchQuit: nil with --no-netns-quit
	eng    *engine.Engine     // newEngine
	hs     *handlers.Set      // newEngine: the handlers, closed (reset) after a drain
	alog   *audit.Log         // newEngine: --audit-log, nil for none
	sigs   chan os.Signal     // SIGTERM, SIGINT, SIGHUP unless spawned
	runErr chan error         // run: the event loop's result
	cancel context.CancelFunc // run: stops the event loop
}

// engineMain is the engine process: it reaches the namespace, creates and
// configures the tap, starts the engine and waits, for the command
// (spawn) or for the namespace to go away. Each step is one method; a
// failure before the event loop runs is reported to the launcher
// (netns.Ready) as well as on stderr.
func engineMain(cfg *policy.Config) int {
	p := &engineProc{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	defer p.close()
	for _, step := range []func() error{
		p.resolve,     // logger, paths, host's view, guest's addresses, --runas
		p.reachTarget, // spawn the command's namespaces, or join the target
		p.tap,         // tap device, its MAC, netlink configuration
		p.watchQuit,   // notice the namespace going away
		p.newEngine,   // event loop, handlers, listeners, pcap; PID file; signals
		p.sandbox,     // sandbox.Enter: from here on, no file system
		p.run,         // event loop started, launcher told, command released
	} {
		if err := step(); err != nil {
			return p.fail(err)
		}
	}
	return p.wait()
}

// fail reports err to the launcher and on stderr, and ends the target's
// command if there is one.
func (p *engineProc) fail(err error) int {
	netns.Ready(err)
	fmt.Fprintln(os.Stderr, "pasta:", err)
	if p.target != nil {
		p.target.Close()
	}
	return 1
}

func (p *engineProc) close() {
	if p.cancel != nil {
		p.cancel()
	}
	// Whatever ends pasta, write out the audit events queued so far.
	p.alog.Flush(time.Second)
	if p.closeLog != nil {
		p.closeLog()
	}
}

// resolve decides everything that needs the host's view and the file
// system, before any namespace work: the log, the namespace paths, the
// host's routes and addresses (read before we are anywhere else), what
// the guest is told, the seccomp action and --runas (while /etc is
// reachable), and the tap's name and MTU.
func (p *engineProc) resolve() error {
	cfg := p.cfg
	log, closeLog, err := newLogger(cfg)
	if err != nil {
		return err
	}
	p.log, p.closeLog = log, closeLog
	if p.paths, err = netns.ResolvePaths(cfg); err != nil {
		return err
	}
	if cfg.NsMAC != "" {
		if p.mac, err = net.ParseMAC(cfg.NsMAC); err != nil || len(p.mac) != 6 {
			return fmt.Errorf("--ns-mac-addr: invalid MAC address %q", cfg.NsMAC)
		}
	}
	host, err := guest.HostInfoForConfig(cfg)
	if err != nil {
		return err
	}
	if p.gnet, err = guest.Resolve(cfg, host); err != nil {
		return err
	}
	if cfg.ConfigNet {
		if p.copied, err = readCopied(cfg, host); err != nil {
			return err
		}
	}
	if p.action, err = sandbox.ActionFromEnv(); err != nil {
		return err
	}
	if p.vnet, err = netns.TapOffloadFromEnv(); err != nil {
		return err
	}
	if p.noPeek, err = tcp.PeekOffsetFromEnv(); err != nil {
		return err
	}
	p.runAs, err = runAsIDs(cfg, os.Geteuid() == 0, netns.InitialUserNS(), p.paths.Spawn())
	if err != nil {
		return err
	}
	p.mtu = netns.DefaultMTU
	if cfg.MTUSet {
		p.mtu = cfg.MTU // 0: leave the kernel's default
	}
	p.ifname = tapName(cfg.NsIfname, host)
	return nil
}

// tapName is the tap's name: -I, else the host's external interface's
// (IPv4 first), else netns.DefaultIfname.
func tapName(want string, host guest.HostInfo) string {
	for _, n := range []string{want, host.V4.Ifname, host.V6.Ifname} {
		if n != "" {
			return n
		}
	}
	return netns.DefaultIfname
}

// reachTarget spawns the command in new namespaces (held until run
// releases it) or joins the existing target with the namespace worker.
func (p *engineProc) reachTarget() error {
	var err error
	if p.paths.Spawn() {
		p.target, err = netns.Spawn(p.cfg, p.cfg.Command)
	} else {
		p.target, err = netns.Join(p.cfg)
	}
	return err
}

// tap creates the tap device in the target, reads its MAC and configures
// addresses and routes (with --config-net).
func (p *engineProc) tap() error {
	w := p.target.Worker()
	fd, ifname, err := netns.OpenTap(w, p.ifname, p.mtu, p.mac, p.vnet)
	if err != nil {
		return err
	}
	p.tapFd, p.ifname = fd, ifname
	if p.dev, err = newDevice(fd, p.vnet, p.log); err != nil {
		return err
	}
	// Address frames to the tap's MAC from the start: a guest that has not
	// sent anything yet ignores frames to broadcast (a -t SYN, say).
	hw, err := netns.LinkMAC(w, ifname)
	if err != nil {
		return err
	}
	if len(hw) == len(p.gnet.GuestMAC) {
		copy(p.gnet.GuestMAC[:], hw)
	}
	warnings, err := netns.ConfigureNet(w, ifname, p.gnet, p.cfg.ConfigNet, p.copied)
	for _, w := range warnings {
		p.log.Warn("--config-net: " + w)
	}
	return err
}

// readCopied reads what --config-net copies from the host's template
// interface of each family, as pasta: its addresses unless -a gave one
// of that family (or --no-copy-addrs), its routes unless -g did (or
// --no-copy-routes).
func readCopied(cfg *policy.Config, host guest.HostInfo) (copied [2]netns.Copied, err error) {
	for i, hf := range []guest.HostFamily{host.V4, host.V6} {
		v6 := i == 1
		addrs := !cfg.NoCopyAddrs && !slices.ContainsFunc(cfg.Addresses, func(p netip.Prefix) bool { return p.Addr().Unmap().Is6() == v6 })
		routes := !cfg.NoCopyRoutes && !slices.ContainsFunc(cfg.Gateways, func(a netip.Addr) bool { return a.Unmap().Is6() == v6 })
		if copied[i], err = netns.ReadCopied(hf.Ifindex, v6, addrs, routes); err != nil {
			return copied, fmt.Errorf("--config-net: %w", err)
		}
	}
	return copied, nil
}

// watchQuit starts watching the target namespace (pidfd or inotify),
// unless --no-netns-quit.
func (p *engineProc) watchQuit() error {
	if p.cfg.NoNetNSQuit {
		return nil
	}
	var err error
	p.quit, err = netns.WatchQuit(p.paths)
	return err
}

// newEngine builds the event loop with its handlers and listeners and
// the -c control socket, writes
// the PID file (unless the launcher does, for a daemon) and catches the
// signals that end pasta when there is no command to forward them to.
func (p *engineProc) newEngine() error {
	var err error
	if p.eng, p.hs, p.alog, err = newEngine(p.cfg, p.gnet, p.target.Worker(), p.dev, p.noPeek, p.log); err != nil {
		return err
	}
	if _, err := addControl(p.cfg, p.eng, p.hs, p.log); err != nil {
		return err
	}
	if p.cfg.PidFile != "" && !netns.Daemonized() {
		if err := writePidFile(p.cfg.PidFile, os.Getpid()); err != nil {
			return err
		}
	}
	p.sigs = make(chan os.Signal, 1)
	if !p.target.Spawned() {
		// A spawned command gets these forwarded instead (netns.Spawn).
		signal.Notify(p.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	}
	return nil
}

// sandbox confines the process for good; see enterSandbox.
func (p *engineProc) sandbox() error {
	return enterSandbox(p.cfg, p.target, p.action, p.runAs, p.log)
}

// run starts the event loop, tells the launcher that the namespace is
// ready and releases the command.
func (p *engineProc) run() error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.runErr = make(chan error, 1)
	go func() { p.runErr <- p.eng.Run(ctx) }()
	p.log.Debug("tap ready", "ifname", p.ifname, "namespace", p.paths.Net)
	netns.Ready(nil)
	err := p.target.Release()
	// From here the loop is the process's only busy goroutine
	// (engine.Config.Dedicated); the others (signals, the command's
	// exit, the control socket) wait in system calls and get their turn
	// at the loop's ticks. One P: the runtime then has no idle P to hand
	// work to and wake threads for between the loop's system calls. Not
	// before: the launcher and the command wait for the pipes closed
	// above, which must not wait for a tick.
	runtime.GOMAXPROCS(1)
	return err
}

// wait returns the exit status: the command's when pasta spawned it;
// otherwise 0 once the namespace is gone or a signal came, 1 if the event
// loop failed.
func (p *engineProc) wait() int {
	if p.target.Spawned() {
		status := make(chan int, 1)
		go func() { status <- p.target.Wait() }()
		select {
		case s := <-status:
			// Keep translating what the namespace still holds, then
			// stop the loop and reset what is left (no FIN on a cut
			// transfer).
			err := drain(p.eng, p.hs.Splice, p.runErr, p.log)
			p.cancel()
			if err == nil {
				err = <-p.runErr
			}
			p.runErr = nil
			p.hs.Close()
			if err != nil {
				fmt.Fprintln(os.Stderr, "pasta:", err)
			}
			return s
		case err := <-p.runErr:
			fmt.Fprintln(os.Stderr, "pasta:", err)
			p.target.Close()
			return 1
		}
	}
	var gone <-chan struct{}
	if p.quit != nil {
		gone = p.quit.Done()
	}
	select {
	case <-gone:
		p.log.Info("target namespace gone, exiting")
		return 0
	case <-p.sigs:
		return 0
	case err := <-p.runErr:
		if err != nil {
			p.log.Error(err.Error())
			return 1
		}
		return 0
	}
}
