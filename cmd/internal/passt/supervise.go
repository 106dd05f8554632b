// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/logging"
	"gopasst/policy"
	"gopasst/sandbox"
)

// termGrace is how long a guest process gets to exit after SIGTERM
// before it is killed.
const termGrace = 2 * time.Second

// supervisor accepts guests one at a time and runs each in its own
// sandboxed process. See "Processes" in the package comment.
type supervisor struct {
	cfg      *policy.Config
	args     []string // the command line, for each guest process
	log      *slog.Logger
	ln       *net.UnixListener // nil with -F
	sockPath string            // to remove at exit; "" with -F
	conn     *os.File          // -F: the one connection
	logFile  *os.File          // -l, handed to each guest process
	pcapFile *os.File          // -p, handed to each guest process
	audit    *os.File          // --audit-log, handed to each guest process
	syslog   *logging.Syslog   // daemon without -l, handed to each guest process
	uid, gid uint32            // outer IDs of the guest process's root (--runas)
	oneOff   bool              // -1, or -F
	sigs     chan os.Signal
}

func newSupervisor(cfg *policy.Config, ho *handover, args []string) (*supervisor, error) {
	s := &supervisor{cfg: cfg, args: args, oneOff: cfg.OneOff, sigs: make(chan os.Signal, 1)}
	var err error
	if s.uid, s.gid, err = runAsIDs(cfg.RunAs); err != nil {
		return nil, err
	}
	for i, name := range ho.names {
		f := ho.files[i]
		switch name {
		case fileSocket:
			if sa, err := unix.Getsockname(int(f.Fd())); err == nil {
				if u, ok := sa.(*unix.SockaddrUnix); ok {
					s.sockPath = u.Name
				}
			}
			l, err := net.FileListener(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("UNIX socket: %w", err)
			}
			s.ln = l.(*net.UnixListener)
			s.ln.SetUnlinkOnClose(false)
		case fileConn:
			s.conn, s.oneOff = f, true
		case fileLog:
			s.logFile = f
		case filePcap:
			s.pcapFile = f
		case fileAudit:
			s.audit = f
		case fileSyslog:
			s.syslog = logging.NewSyslog(f, "passt")
		}
	}
	if s.ln == nil && s.conn == nil {
		return nil, errors.New("no guest socket")
	}
	s.log = newLogger(cfg, s.logFile, s.syslog)
	signal.Notify(s.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	return s, nil
}

// run serves guests until a signal, or until the guest of a one-off
// session leaves. It returns the exit status.
func (s *supervisor) run() int {
	defer s.close()
	for {
		conn, stop := s.next()
		if stop {
			return 0
		}
		if conn == nil {
			return 1
		}
		status, stop := s.serve(conn)
		if stop {
			return 0
		}
		if s.oneOff {
			return status
		}
		s.log.Info("waiting for the next guest")
	}
}

// next returns the next guest's connection. stop is true if a signal came
// first.
func (s *supervisor) next() (conn *os.File, stop bool) {
	if s.conn != nil {
		c := s.conn
		s.conn = nil
		return c, false
	}
	if s.ln == nil {
		return nil, false // -F: served already
	}
	type result struct {
		c   *net.UnixConn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := s.ln.AcceptUnix()
		ch <- result{c, err}
	}()
	select {
	case <-s.sigs:
		s.ln.Close()
		return nil, true
	case r := <-ch:
		if r.err != nil {
			s.log.Error("accept: " + r.err.Error())
			return nil, false
		}
		f, err := r.c.File() // a blocking duplicate; the child restores O_NONBLOCK
		r.c.Close()
		if err != nil {
			s.log.Error("guest connection: " + err.Error())
			return nil, false
		}
		return f, false
	}
}

// serve runs one guest process on conn and waits for it. stop is true if
// a signal ended it.
func (s *supervisor) serve(conn *os.File) (status int, stop bool) {
	growBuffers(conn)
	var ho handover
	ho.add(fileConn, conn)
	ho.add(fileLog, s.logFile)
	ho.add(filePcap, s.pcapFile)
	ho.add(fileAudit, s.audit)
	if s.syslog != nil {
		ho.add(fileSyslog, s.syslog.File())
	}
	proc, err := sandbox.Reexec(stageGuest, ho.files, sandbox.ReexecOptions{
		Args:      s.args,
		Env:       []string{ho.env()},
		UserNS:    true,
		UID:       s.uid,
		GID:       s.gid,
		Stderr:    os.Stderr,
		Pdeathsig: syscall.SIGKILL,
	})
	conn.Close()
	if err != nil {
		s.log.Error(err.Error())
		return 1, false
	}
	s.log.Info("guest connected", "pid", proc.Pid)
	done := make(chan *os.ProcessState, 1)
	go func() {
		ps, _ := proc.Wait()
		done <- ps
	}()
	select {
	case ps := <-done:
		return s.status(ps), false
	case sig := <-s.sigs:
		s.log.Info("terminating on " + sig.String())
		proc.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(termGrace):
			proc.Kill()
			<-done
		}
		return 0, true
	}
}

// status turns the guest process's end into an exit status, and logs it
// unless it was the normal end (the guest disconnected).
func (s *supervisor) status(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		s.log.Error("guest process killed", "signal", ws.Signal().String())
		return 1
	}
	if c := ps.ExitCode(); c != 0 {
		s.log.Error("guest process failed", "status", c)
		return c
	}
	return 0
}

func (s *supervisor) close() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.sockPath != "" {
		os.Remove(s.sockPath)
	}
	signal.Stop(s.sigs)
}

// runAsIDs resolves --runas UID[:GID] | LOGIN[:GROUP]. Zero means the
// default: nobody when started as root, the caller otherwise
// (sandbox.ReexecOptions).
func runAsIDs(spec string) (uid, gid uint32, err error) {
	if spec == "" {
		return 0, 0, nil
	}
	us, gs, hasGroup := strings.Cut(spec, ":")
	id := func(s string, lookup func(string) (string, error)) (uint32, error) {
		if v, err := strconv.ParseUint(s, 10, 32); err == nil {
			return uint32(v), nil
		}
		v, err := lookup(s)
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseUint(v, 10, 32)
		return uint32(n), err
	}
	var primary string
	uid, err = id(us, func(name string) (string, error) {
		u, err := user.Lookup(name)
		if err != nil {
			return "", err
		}
		primary = u.Gid
		return u.Uid, nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("--runas %s: %w", spec, err)
	}
	switch {
	case hasGroup:
		gid, err = id(gs, func(name string) (string, error) {
			g, err := user.LookupGroup(name)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
	case primary != "":
		var v uint64
		v, err = strconv.ParseUint(primary, 10, 32)
		gid = uint32(v)
	default:
		gid = uid
	}
	if err != nil {
		return 0, 0, fmt.Errorf("--runas %s: %w", spec, err)
	}
	return uid, gid, nil
}
