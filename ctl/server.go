// SPDX-License-Identifier: GPL-2.0-or-later

package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/policy"
)

// Opener opens and closes listeners for one option: proto/tcp's Handler
// for -t, proto/udp's Opener for -u.
type Opener interface {
	Listen(l policy.Listener) error
	Unlisten(port uint16) error
}

// Config is what New needs.
type Config struct {
	Fd     int         // the listening socket, from Listen
	Poller flow.Poller // the engine's
	TCP    Opener      // -t; nil refuses add -t
	UDP    Opener      // -u; nil refuses add -u
	// Static are the rules given on the command line, for list
	// ("-t 8080", ...).
	Static []string
	Log    *slog.Logger // nil discards
}

type rule struct {
	opt   byte
	spec  string
	ports []uint16
}

type client struct {
	fd  int // -1: free slot
	buf [MaxLine]byte
	n   int
}

// Server serves the control socket from the event loop; see the package
// documentation.
type Server struct {
	flow.Nop
	cfg     Config
	log     *slog.Logger
	rules   []rule
	clients [MaxClients]client
	out     []byte
	opens   uint64
	refused uint64
	bad     uint64
}

// New registers cfg.Fd with the poller and returns the Server. The
// Server owns cfg.Fd from then on (Close closes it; New on failure).
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for i := range s.clients {
		s.clients[i].fd = -1
	}
	if err := cfg.Poller.Add(cfg.Fd, unix.EPOLLIN, flow.Ref{Kind: flow.KindCtl, Fd: int32(cfg.Fd)}); err != nil {
		unix.Close(cfg.Fd)
		return nil, fmt.Errorf("control socket: epoll: %w", err)
	}
	return s, nil
}

// Listen creates the control socket at path, bound and listening,
// non-blocking. A stale socket at path (one nobody listens on, left by
// an earlier pasta: the sandboxed engine cannot remove it) is replaced;
// any other existing file is an error.
func Listen(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("control socket: %w", err)
	}
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	if err == unix.EADDRINUSE && stale(path) {
		_ = unix.Unlink(path)
		err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := unix.Listen(fd, MaxClients); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("control socket %s: %w", path, err)
	}
	return fd, nil
}

// Claim implements flow.Handler.
func (s *Server) Claim() flow.Claim {
	return flow.Claim{Name: "ctl", Kinds: []flow.Kind{flow.KindCtl},
		Counters: flow.CountersOf(flow.Opens, flow.Refused, flow.DropMalformed)}
}

// Stats implements flow.Handler.
func (s *Server) Stats() flow.Stats {
	var st flow.Stats
	st[flow.Opens], st[flow.Refused], st[flow.DropMalformed] = s.opens, s.refused, s.bad
	return st
}

// HandleSock implements flow.Handler.
func (s *Server) HandleSock(ref flow.Ref, events uint32, now int64) {
	if ref.Index == 0 {
		s.accept()
		return
	}
	i := int(ref.Index) - 1
	if i >= MaxClients || s.clients[i].fd != int(ref.Fd) {
		return
	}
	s.serve(i)
}

func (s *Server) accept() {
	for range MaxClients + 1 {
		fd, _, err := unix.Accept4(s.cfg.Fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		slot := -1
		for i := range s.clients {
			if s.clients[i].fd < 0 {
				slot = i
				break
			}
		}
		if slot < 0 {
			unix.Close(fd)
			s.refused++
			continue
		}
		if err := s.cfg.Poller.Add(fd, unix.EPOLLIN, flow.Ref{Kind: flow.KindCtl, Index: uint32(slot + 1), Fd: int32(fd)}); err != nil {
			unix.Close(fd)
			continue
		}
		s.clients[slot] = client{fd: fd}
		s.opens++
	}
}

// serve reads what client i sent and answers each complete line.
func (s *Server) serve(i int) {
	c := &s.clients[i]
	for range 16 {
		n, err := unix.Read(c.fd, c.buf[c.n:])
		if err == unix.EAGAIN || err == unix.EINTR {
			return
		}
		if err != nil || n == 0 {
			s.drop(i)
			return
		}
		c.n += n
		for {
			nl := bytes.IndexByte(c.buf[:c.n], '\n')
			if nl < 0 {
				break
			}
			keep := s.request(c.buf[:nl])
			if !s.flush(c.fd) || !keep {
				s.drop(i)
				return
			}
			c.n = copy(c.buf[:], c.buf[nl+1:c.n])
		}
		if c.n == len(c.buf) {
			s.out = append(s.out[:0], fmt.Sprintf("error line longer than %d bytes\n", MaxLine-1)...)
			s.flush(c.fd)
			s.bad++
			s.drop(i)
			return
		}
	}
}

// request answers line into s.out; false: close the client.
func (s *Server) request(line []byte) bool {
	s.out = s.out[:0]
	r, err := Parse(line)
	if err == nil {
		err = s.do(r)
	}
	if err != nil {
		s.refused++
		s.out = append(s.out, "error "...)
		s.out = append(s.out, strings.ReplaceAll(err.Error(), "\n", " ")...)
		s.out = append(s.out, '\n')
		if errors.Is(err, ErrMalformed) {
			s.bad++
			return false
		}
		return true
	}
	s.out = append(s.out, "ok\n"...)
	return true
}

func (s *Server) do(r Request) error {
	switch r.Op {
	case OpList:
		for _, st := range s.cfg.Static {
			s.out = append(s.out, "rule "+st+" (static)\n"...)
		}
		for _, ru := range s.rules {
			s.out = append(s.out, fmt.Sprintf("rule -%c %s\n", ru.opt, ru.spec)...)
		}
		return nil
	case OpAdd:
		return s.add(r)
	case OpDel:
		return s.del(r)
	}
	return errors.New("unknown request")
}

func (s *Server) opener(opt byte) (Opener, error) {
	o := s.cfg.TCP
	if opt == 'u' {
		o = s.cfg.UDP
	}
	if o == nil {
		return nil, fmt.Errorf("-%c: not available (protocol disabled)", opt)
	}
	return o, nil
}

func (s *Server) add(r Request) error {
	o, err := s.opener(r.Opt)
	if err != nil {
		return err
	}
	if len(s.rules) >= MaxRules {
		return fmt.Errorf("at most %d runtime rules", MaxRules)
	}
	for _, ru := range s.rules {
		if ru.opt == r.Opt && ru.spec == r.Spec {
			return fmt.Errorf("-%c %s: already added", r.Opt, r.Spec)
		}
	}
	ls := r.Fwd.Listeners()
	ports := make([]uint16, 0, len(ls))
	for _, l := range ls {
		if err := o.Listen(l); err != nil {
			for _, p := range ports {
				_ = o.Unlisten(p)
			}
			return fmt.Errorf("-%c %s: port %d: %w", r.Opt, r.Spec, l.Port, err)
		}
		ports = append(ports, l.Port)
	}
	s.rules = append(s.rules, rule{opt: r.Opt, spec: r.Spec, ports: ports})
	s.log.Info("control: forwarding added", "rule", fmt.Sprintf("-%c %s", r.Opt, r.Spec))
	return nil
}

func (s *Server) del(r Request) error {
	o, err := s.opener(r.Opt)
	if err != nil {
		return err
	}
	for i, ru := range s.rules {
		if ru.opt != r.Opt || ru.spec != r.Spec {
			continue
		}
		for _, p := range ru.ports {
			_ = o.Unlisten(p)
		}
		s.rules = append(s.rules[:i], s.rules[i+1:]...)
		s.log.Info("control: forwarding removed", "rule", fmt.Sprintf("-%c %s", r.Opt, r.Spec))
		return nil
	}
	return fmt.Errorf("-%c %s: no such runtime rule", r.Opt, r.Spec)
}

// flush writes s.out to fd at once; false if it did not all go.
func (s *Server) flush(fd int) bool {
	want := len(s.out)
	if want == 0 {
		return true
	}
	n, err := unix.Write(fd, s.out)
	s.out = s.out[:0]
	return err == nil && n == want
}

func (s *Server) drop(i int) {
	c := &s.clients[i]
	if c.fd >= 0 {
		_ = s.cfg.Poller.Del(c.fd)
		unix.Close(c.fd)
	}
	c.fd, c.n = -1, 0
}

// Close closes the clients and the listening socket.
func (s *Server) Close() {
	for i := range s.clients {
		s.drop(i)
	}
	if s.cfg.Fd >= 0 {
		_ = s.cfg.Poller.Del(s.cfg.Fd)
		unix.Close(s.cfg.Fd)
		s.cfg.Fd = -1
	}
}

// stale reports whether path is a UNIX socket that refuses connections.
func stale(path string) bool {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return false
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Connect(fd, &unix.SockaddrUnix{Name: path}) == unix.ECONNREFUSED
}
