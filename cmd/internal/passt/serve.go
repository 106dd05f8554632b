// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/cmd/internal/handlers"
	"gopasst/egress"
	"gopasst/engine"
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/pcap"
	"gopasst/policy"
	"gopasst/proto/tcp"
	"gopasst/proto/udp"
	"gopasst/sandbox"
	"gopasst/tap"
	"gopasst/tap/vhostuser"
)

// server is the sandboxed process's state that outlives guests: what the
// launcher handed over and what was resolved before the sandbox closed.
type server struct {
	cfg      *policy.Config
	log      *slog.Logger
	n        *guest.Net
	pcap     *pcap.Writer
	listenFd int    // the UNIX socket; -1 with -F
	sockDir  int    // its directory (O_PATH), to remove it at exit
	sockName string // its name there
	connFd   int    // -F: the one connection; -1 once served
	tcpFds   []int
	udpFds   []int
	udpT     [2]time.Duration // the host's UDP flow timeouts
	audit    *audit.Log       // --audit-log; nil: none
	noPeek   bool             // tcp.PeekOffsetEnv=off
}

// sandboxedMain is the long-lived process (sandbox stage "passt"): new
// user namespace (root mapped to --runas or nobody), mount, IPC and UTS
// namespaces, the host's network namespace. It resolves what the guest is
// told, enters the sandbox, reports ready and serves one guest at a time,
// with a fresh engine each. See "Processes".
func sandboxedMain(cfg *policy.Config) int {
	logFile, sys := inheritedLog()
	log := newLogger(cfg, logFile, sys)
	fail := func(err error) int {
		ready(err)
		log.Error(err.Error())
		return 1
	}
	if _, err := sandbox.InheritedFDs(); err != nil {
		return fail(err)
	}
	s := &server{
		cfg: cfg, log: log,
		listenFd: inheritedFD(fileSocket), connFd: inheritedFD(fileConn), sockDir: -1,
		tcpFds: inheritedFDs(fileTCP), udpFds: inheritedFDs(fileUDP),
	}
	if s.listenFd < 0 && s.connFd < 0 {
		return fail(errors.New("no guest socket"))
	}
	if s.listenFd >= 0 {
		s.sockDir = inheritedFD(fileSockDir)
		if sa, err := unix.Getsockname(s.listenFd); err == nil {
			if u, ok := sa.(*unix.SockaddrUnix); ok && u.Name != "" && u.Name[0] != '@' {
				s.sockName = filepath.Base(u.Name)
			}
		}
		// Accepted in blocking mode on a goroutine of its own; shutdown
		// wakes it on a signal.
		if err := unix.SetNonblock(s.listenFd, false); err != nil {
			return fail(err)
		}
	}
	host, err := guest.HostInfoForConfig(cfg)
	if err != nil {
		return fail(err)
	}
	if s.n, err = guest.Resolve(cfg, host); err != nil {
		return fail(err)
	}
	s.udpT[0], s.udpT[1] = udp.HostTimeouts()
	if s.noPeek, err = tcp.PeekOffsetFromEnv(); err != nil {
		return fail(err)
	}
	if fd := inheritedFD(filePcap); fd >= 0 {
		s.pcap = pcap.NewFromFd(fd)
	}
	// The audit log of the flow policy, on the fd the launcher opened
	// (or stderr), one for all guests; each guest gets a fresh gate.
	if fd := inheritedFD(fileAudit); fd >= 0 {
		s.audit = audit.New(os.NewFile(uintptr(fd), "audit"), audit.DefaultRing)
	} else if cfg.AuditLog == "-" {
		s.audit = audit.New(os.Stderr, audit.DefaultRing)
	}
	defer s.audit.Close(time.Second)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	// Kill, except in a seccompdebug build (GOPASST_SECCOMP).
	action, err := sandbox.ActionFromEnv()
	if err != nil {
		return fail(err)
	}
	if err := sandbox.Enter(policy.ModePasst, sandbox.Options{Action: action, ChrootFallback: cfg.ChrootFallback}); err != nil {
		return fail(err)
	}
	ready(nil)
	log.Debug("sandboxed", "v4", s.n.V4.Addr, "v6", s.n.V6.Addr)
	return s.run(ctx)
}

// run serves guests until a signal, or until the guest of a one-off
// session (--one-off, -F) leaves. It returns the exit status.
func (s *server) run(ctx context.Context) int {
	defer s.removeSocket()
	if s.listenFd >= 0 {
		go func() {
			<-ctx.Done()
			unix.Shutdown(s.listenFd, unix.SHUT_RDWR) // wakes accept
		}()
	}
	for {
		fd, err := s.next()
		if ctx.Err() != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			return 0
		}
		if err != nil {
			s.log.Error(err.Error())
			if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return 1
		}
		status := s.serve(ctx, fd)
		if s.cfg.OneOff || s.listenFd < 0 || ctx.Err() != nil {
			return status
		}
		s.log.Info("waiting for the next guest")
	}
}

// removeSocket removes the UNIX socket's file, which nobody will accept
// on any more. Only through the directory descriptor the launcher opened:
// no path resolves in the empty root.
func (s *server) removeSocket() {
	if s.sockDir >= 0 && s.sockName != "" {
		unix.Unlinkat(s.sockDir, s.sockName, 0)
	}
}

// next returns the next guest's connection: the -F one, or an accepted one.
func (s *server) next() (int, error) {
	if s.connFd >= 0 {
		fd := s.connFd
		s.connFd = -1
		return fd, nil
	}
	for {
		fd, _, err := unix.Accept4(s.listenFd, unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("accept: %w", err)
		}
		return fd, nil
	}
}

// serve runs a fresh engine with fresh handlers on the guest's
// connection fd until the guest goes away or ctx ends, then frees all of
// it: every flow, socket and timer of this guest is closed, the
// borrowed -t/-u listeners and the pcap file stay. A partial frame or a
// wedged flow of one guest cannot reach the next. The status is 0 when
// the guest disconnected (or the stream broke), 1 on a setup failure.
func (s *server) serve(ctx context.Context, fd int) int {
	defer reclaim()
	dev, err := s.device(fd)
	if err != nil {
		s.log.Error("guest connection: " + err.Error())
		return 1
	}
	defer dev.Close()
	budget := flow.NewBudget(flow.DefaultBudget)
	// The flow policy: egress rules and limits, counted afresh per guest.
	gate := egress.New(s.cfg, s.audit)
	e, err := engine.New(engine.Config{
		Net: s.n, Device: dev, Pcap: s.pcap, Log: s.log,
		Trace: s.cfg.Trace, StatsEvery: s.cfg.Stats, Budget: budget, Gate: gate,
		Dedicated: true,
	})
	if err != nil {
		s.log.Error(err.Error())
		return 1
	}
	defer e.Close()
	// TCP, UDP and ICMP echo share the flow budget of the engine.
	hs, err := handlers.Add(e, handlers.Config{
		Policy: s.cfg, Net: s.n, Budget: budget, Gate: gate, Log: s.log,
		TCPPrebound: s.tcpFds, UDPPrebound: s.udpFds,
		UDPTimeout: s.udpT[0], UDPStreamTimeout: s.udpT[1], NoPeekOffset: s.noPeek,
	})
	if err != nil {
		s.log.Error(err.Error())
		return 1
	}
	defer hs.Close()
	s.log.Info("guest connected")
	// The loop is the process's only busy goroutine (engine.Config.
	// Dedicated): one P, so that the runtime has no idle P to hand work
	// to and wake threads for between the loop's system calls.
	runtime.GOMAXPROCS(1)
	err = e.Run(ctx)
	switch {
	case err == nil:
	case errors.Is(err, tap.ErrClosed):
		s.log.Info("guest disconnected")
	case errors.Is(err, tap.ErrZeroLength), errors.Is(err, tap.ErrFrameTooLong):
		s.log.Warn(fmt.Sprintf("closing the guest connection: %v", err))
	default:
		s.log.Warn(fmt.Sprintf("guest connection lost: %v", err))
	}
	return 0
}

// device makes the guest's end of the link on its connection fd, which
// it owns from now on: with --vhost-user a vhost-user back end (frames in
// the guest's virtqueues; the socket carries only control messages), else
// qemu's stream protocol, whose socket buffers carry the frames.
func (s *server) device(fd int) (tap.Device, error) {
	if !s.cfg.VhostUser {
		growBuffers(fd)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if s.cfg.VhostUser {
		d, err := vhostuser.New(fd, vhostuser.Config{Log: s.log, MTU: s.n.MTU})
		if err != nil {
			return nil, fmt.Errorf("vhost-user: %w", err)
		}
		return d, nil
	}
	return tap.NewStream(fd), nil
}

// reclaim returns the memory of a finished guest to the kernel, so that
// the process's size between guests is the same after one guest or
// thousands (a guest's engine and flow tables are tens of MB).
func reclaim() {
	runtime.GC()
	debug.FreeOSMemory()
}
