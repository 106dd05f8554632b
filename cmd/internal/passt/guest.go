// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"gopasst/audit"
	"gopasst/cmd/internal/handlers"
	"gopasst/egress"
	"gopasst/engine"
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/pcap"
	"gopasst/policy"
	"gopasst/sandbox"
	"gopasst/tap"
)

// guestMain is the per-guest process (sandbox stage "passt-guest"): the
// engine on the inherited connection, until the guest goes away. Exit
// status 0 means the guest disconnected (or the stream broke, or SIGTERM);
// anything else is a setup or internal failure.
func guestMain(args []string) int {
	cfg, code, ok := parse(args)
	if !ok {
		return code
	}
	logFile, sys := inheritedLog()
	log := newLogger(cfg, logFile, sys)
	fail := func(err error) int {
		log.Error(err.Error())
		return 1
	}
	if _, err := sandbox.InheritedFDs(); err != nil {
		return fail(err)
	}
	connFd := inheritedFD(fileConn)
	if connFd < 0 {
		return fail(errors.New("no guest connection"))
	}
	host, err := guest.HostInfoFromKernel(cfg.Interface)
	if err != nil {
		return fail(err)
	}
	n, err := guest.Resolve(cfg, host)
	if err != nil {
		return fail(err)
	}
	dev := tap.NewStream(connFd)
	defer dev.Close()
	var pw *pcap.Writer
	if fd := inheritedFD(filePcap); fd >= 0 {
		pw = pcap.NewFromFd(fd)
		defer pw.Close()
	}
	budget := flow.NewBudget(flow.DefaultBudget)
	// The flow policy: egress rules, limits, and the audit log on the fd
	// the launcher opened (or stderr).
	var alog *audit.Log
	if fd := inheritedFD(fileAudit); fd >= 0 {
		alog = audit.New(os.NewFile(uintptr(fd), "audit"), audit.DefaultRing)
	} else if cfg.AuditLog == "-" {
		alog = audit.New(os.Stderr, audit.DefaultRing)
	}
	defer alog.Close(time.Second)
	gate := egress.New(cfg, alog)
	e, err := engine.New(engine.Config{
		Net: n, Device: dev, Pcap: pw, Log: log,
		Trace: cfg.Trace, StatsEvery: cfg.Stats, Budget: budget, Gate: gate,
	})
	if err != nil {
		return fail(err)
	}
	defer e.Close()
	// TCP, UDP and ICMP echo share the flow budget of the engine.
	hs, err := handlers.Add(e, handlers.Config{Policy: cfg, Net: n, Budget: budget, Gate: gate, Log: log})
	if err != nil {
		return fail(err)
	}
	defer hs.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()

	// Kill, except in a seccompdebug build (GOPASST_SECCOMP).
	action, err := sandbox.ActionFromEnv()
	if err != nil {
		return fail(err)
	}
	if err := sandbox.Enter(policy.ModePasst, sandbox.Options{Action: action}); err != nil {
		return fail(err)
	}
	log.Debug("sandboxed, serving the guest", "v4", n.V4.Addr, "v6", n.V6.Addr)
	err = e.Run(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, tap.ErrClosed):
		log.Info("guest disconnected")
		return 0
	case errors.Is(err, tap.ErrZeroLength), errors.Is(err, tap.ErrFrameTooLong):
		log.Warn(fmt.Sprintf("closing the guest connection: %v", err))
		return 0
	default:
		log.Warn(fmt.Sprintf("guest connection lost: %v", err))
		return 0
	}
}
