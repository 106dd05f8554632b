// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
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
			if err := try(l, fwd.Loopback(false)); err != nil {
				return err
			}
			if err := try(l, fwd.Loopback(true)); err != nil {
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
	var sock fwd.SocketFunc
	if ns {
		sock = h.nsSock
	}
	fd, v6, err := openBound(l, bind, sock)
	if err != nil {
		return err
	}
	return h.register(l, fd, v6, ns, false)
}

// register adds a bound listener to epoll and to the table, in the first
// closed slot (auto forwarding closes listeners at run time); borrowed ones
// (Config.Prebound) are never closed by the handler.
func (h *Handler) register(l *policy.Listener, fd int, v6, ns, borrowed bool) error {
	idx := h.freeSlot()
	ref := flow.Ref{Kind: flow.KindUDPListen, Index: uint32(idx), Fd: int32(fd)}
	if err := h.poller.Add(fd, unix.EPOLLIN, ref); err != nil {
		if !borrowed {
			unix.Close(fd)
		}
		return fmt.Errorf("epoll for port %d: %w", l.Port, err)
	}
	nl := listener{
		fd: int32(fd), v6: v6, ns: ns, port: l.Port, toPort: l.ToPort, toAddr: l.ToAddr.Unmap(),
		borrowed: borrowed,
	}
	if idx == len(h.lst) {
		h.lst = append(h.lst, nl)
	} else {
		h.lst[idx] = nl
	}
	return nil
}

// BindInbound opens and binds the host-side socket of a -u listener, as
// the handler itself would. The result is for Config.Prebound.
func BindInbound(l policy.Listener) (int, error) {
	fd, _, err := openBound(&l, l.Bind, nil)
	return fd, err
}

// openBound opens a UDP socket with sock (nil: socket(2) here) bound for
// l to bind. An invalid or unspecified IPv6 bind address gives a
// dual-stack socket. v6 tells the socket's family.
func openBound(l *policy.Listener, bind netip.Addr, sock fwd.SocketFunc) (fd int, v6 bool, err error) {
	bind = bind.Unmap()
	v6 = !bind.Is4()
	dual := !bind.IsValid() || (v6 && bind.IsUnspecified())
	s := fwd.ListenSpec{
		Type: unix.SOCK_DGRAM, Addr: bind, V6: v6, V6Only: !dual,
		Iface: l.Iface, Port: l.Port, Setup: setBufs, Socket: sock, Freebind: l.Freebind,
	}
	fd, err = fwd.Listen(s)
	if err != nil && dual && errors.Is(err, unix.EAFNOSUPPORT) {
		// No IPv6 at all: fall back to IPv4 only.
		s.Addr, s.V6 = netip.Addr{}, false
		v6 = false
		fd, err = fwd.Listen(s)
	}
	return fd, v6, err
}

// socket opens a non-blocking UDP socket in the host's namespace.
func (h *Handler) socket(v6 bool) (int, error) {
	af, typ := sockKind(v6)
	return unix.Socket(af, typ, unix.IPPROTO_UDP)
}

// nsFlowSocket opens the namespace socket of a flow spliced from the
// host's loopback, through Config.NsConnect.
func (h *Handler) nsFlowSocket(v6 bool) (int, error) {
	af, typ := sockKind(v6)
	return h.nsConn(af, typ, unix.IPPROTO_UDP)
}

// sockKind is the domain and type of the handler's sockets.
func sockKind(v6 bool) (af, typ int) {
	af = unix.AF_INET
	if v6 {
		af = unix.AF_INET6
	}
	return af, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
}
