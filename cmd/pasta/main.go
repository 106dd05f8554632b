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
package main

import (
	"context"
	"errors"
	"fmt"
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engineErr := make(chan error, 1)
	go func() { engineErr <- eng.Run(ctx) }()
	log.Debug("tap ready", "ifname", ifname, "namespace", paths.Net)

	if cfg.PidFile != "" && !netns.Daemonized() {
		if err := writePidFile(cfg.PidFile, os.Getpid()); err != nil {
			return fail(err)
		}
	}
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
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
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

func writePidFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write PID file: %w", err)
	}
	return nil
}
