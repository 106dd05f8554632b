// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/policy"
)

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// listenAll opens the listeners for one kind of forward (-u: ns false,
// -U: ns true). A port that cannot be bound is logged and skipped; it is
// an error if none can be, or if the process is out of file descriptors,
// as in passt's conf_ports().
func (h *Handler) listenAll(ls []policy.Listener, ns bool) error {
	opt := "-u"
	if ns {
		opt = "-U"
	}
	tried, bound := 0, 0
	var lastErr error
	try := func(l *policy.Listener, bind netip.Addr) error {
		tried++
		err := h.listen(l, bind, ns)
		if err == nil {
			bound++
			return nil
		}
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			return err
		}
		lastErr = err
		h.log.Warn("cannot bind UDP port for forwarding", "option", opt, "port", l.Port, "err", err)
		return nil
	}
	for i := range ls {
		l := &ls[i]
		if ns && !l.Bind.IsValid() {
			// -U is forwarding between loopbacks: bind the
			// namespace's, in both families.
			if err := try(l, loopback4); err != nil {
				return err
			}
			if err := try(l, loopback6); err != nil {
				return err
			}
			continue
		}
		if err := try(l, l.Bind); err != nil {
			return err
		}
	}
	if tried > 0 && bound == 0 {
		return fmt.Errorf("udp: %s: failed to bind any port: %w", opt, lastErr)
	}
	return nil
}

// listen opens, binds and registers one listener.
func (h *Handler) listen(l *policy.Listener, bind netip.Addr, ns bool) error {
	if len(h.lst) > flow.MaxIndex {
		return fmt.Errorf("udp: too many listeners")
	}
	sock := unix.Socket
	if ns {
		sock = h.nsSock
	}
	fd, v6, err := openBound(l, bind, sock)
	if err != nil {
		return err
	}
	return h.register(l, fd, v6, ns, false)
}

// register adds a bound listener to epoll and to the table; borrowed ones
// (Config.Prebound) are never closed by the handler.
func (h *Handler) register(l *policy.Listener, fd int, v6, ns, borrowed bool) error {
	idx := len(h.lst)
	ref := flow.Ref{Kind: flow.KindUDPListen, Index: uint32(idx), Fd: int32(fd)}
	if err := h.poller.Add(fd, unix.EPOLLIN, ref); err != nil {
		if !borrowed {
			unix.Close(fd)
		}
		return fmt.Errorf("epoll port %d: %w", l.Port, err)
	}
	h.lst = append(h.lst, listener{
		fd: int32(fd), v6: v6, ns: ns, port: l.Port, toPort: l.ToPort, toAddr: l.ToAddr.Unmap(),
		borrowed: borrowed,
	})
	return nil
}

// BindInbound opens and binds the host-side socket of a -u listener, as
// the handler itself would: dual-stack unless l.Bind is an IPv4 address
// or the host has no IPv6. The result is for Config.Prebound.
func BindInbound(l policy.Listener) (int, error) {
	fd, _, err := openBound(&l, l.Bind, unix.Socket)
	return fd, err
}

// openBound opens a non-blocking UDP socket with sock and binds it for l
// to bind. An invalid or unspecified IPv6 bind address gives a
// dual-stack socket.
func openBound(l *policy.Listener, bind netip.Addr, sock func(domain, typ, proto int) (int, error)) (int, bool, error) {
	bind = bind.Unmap()
	v6 := !bind.Is4()
	dual := !bind.IsValid() || (v6 && bind.IsUnspecified())
	open := func(v6 bool) (int, error) {
		af := unix.AF_INET
		if v6 {
			af = unix.AF_INET6
		}
		return sock(af, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	}
	fd, err := open(v6)
	if err != nil && dual && errors.Is(err, unix.EAFNOSUPPORT) {
		// No IPv6 at all: fall back to IPv4 only.
		v6, dual = false, false
		fd, err = open(false)
	}
	if err != nil {
		return -1, false, fmt.Errorf("socket: %w", err)
	}
	fail := func(what string, err error) (int, bool, error) {
		unix.Close(fd)
		return -1, false, fmt.Errorf("%s port %d: %w", what, l.Port, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("SO_REUSEADDR", err)
	}
	setBufs(fd)
	if v6 {
		only := 1
		if dual {
			only = 0
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, only); err != nil {
			return fail("IPV6_V6ONLY", err)
		}
	}
	if l.Iface != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, l.Iface); err != nil {
			return fail("SO_BINDTODEVICE "+l.Iface, err)
		}
	}
	var addr [16]byte
	if bind.IsValid() {
		addr = flow.AddrBytes(bind)
	}
	var sa sockaddr
	salen := putSockaddr(&sa, v6, &addr, l.Port)
	if e := bindRaw(fd, &sa, salen); e != 0 {
		return fail("bind", e)
	}
	return fd, v6, nil
}

// socket opens a non-blocking UDP socket in the host's namespace or, for
// ns, in the target namespace.
func (h *Handler) socket(v6, ns bool) (int, error) {
	af := unix.AF_INET
	if v6 {
		af = unix.AF_INET6
	}
	typ := unix.SOCK_DGRAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	if ns {
		return h.nsSock(af, typ, unix.IPPROTO_UDP)
	}
	return unix.Socket(af, typ, unix.IPPROTO_UDP)
}
