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
			// namespace's, in each family the guest has.
			for _, v6 := range []bool{false, true} {
				if !h.hasFamily(v6) {
					continue
				}
				if err := try(l, fwd.Loopback(v6)); err != nil {
					return err
				}
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
	fd, v6, err := openBound(l, bind, sock, h.n.HasV4(), h.n.HasV6())
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
// the handler itself would for a guest with the families hasV4 and
// hasV6. The result is for Config.Prebound.
func BindInbound(l policy.Listener, hasV4, hasV6 bool) (int, error) {
	fd, _, err := openBound(&l, l.Bind, nil, hasV4, hasV6)
	return fd, err
}

// openBound opens a UDP socket with sock (nil: socket(2) here) bound for
// l to bind. No address or "::" gives, as passt's udp_sock_init, a
// dual-stack socket when the guest has both families (hasV4, hasV6),
// else a socket of the one it has; an address is bound as given. v6
// tells the socket's family.
func openBound(l *policy.Listener, bind netip.Addr, sock fwd.SocketFunc, hasV4, hasV6 bool) (fd int, v6 bool, err error) {
	bind = bind.Unmap()
	wild := !bind.IsValid() || bind == netip.IPv6Unspecified()
	dual := wild && hasV4 && hasV6
	switch {
	case dual:
		v6 = true
	case wild:
		bind, v6 = netip.Addr{}, !hasV4
	default:
		v6 = bind.Is6()
	}
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

// hasFamily reports whether the guest has IPv6 (v6) or IPv4.
func (h *Handler) hasFamily(v6 bool) bool {
	if v6 {
		return h.n.HasV6()
	}
	return h.n.HasV4()
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
