// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"fmt"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
)

// Listen opens a forwarding listener at run time: pasta's "-t auto" opens
// one on the host for each port that gets bound inside the namespace. A
// slot freed by Unlisten is reused, so the listener table does not grow
// with churn. Not for the hot path (it allocates).
func (h *Handler) Listen(l policy.Listener) error {
	free := -1
	for i := range h.listeners {
		if h.listeners[i].fd < 0 {
			free = i
			break
		}
	}
	if free < 0 {
		return h.listen(l, len(h.listeners), -1)
	}
	if err := h.listen(l, free, -1); err != nil {
		return err
	}
	// listen appended the new listener with its epoll Ref naming slot
	// free: move it there.
	last := len(h.listeners) - 1
	h.listeners[free] = h.listeners[last]
	h.listeners = h.listeners[:last]
	return nil
}

// Unlisten closes the listener bound to port, opened by New or Listen;
// connections it accepted are not affected.
func (h *Handler) Unlisten(port uint16) error {
	for i := range h.listeners {
		l := &h.listeners[i]
		if l.fd < 0 || fwd.LocalPort(l.fd) != port {
			continue
		}
		_ = h.poller.Del(l.fd)
		if !l.borrowed {
			unix.Close(l.fd)
		}
		l.fd = -1
		return nil
	}
	return fmt.Errorf("tcp: no listener on port %d", port)
}

// Bound reports whether a listener holds port: the "own ports" that the
// host-side auto scanner (-T auto) must not forward back.
func (h *Handler) Bound(port uint16) bool {
	for i := range h.listeners {
		if h.listeners[i].fd >= 0 && fwd.LocalPort(h.listeners[i].fd) == port {
			return true
		}
	}
	return false
}

// listen adds the listening socket for l to epoll: pre, a socket bound
// by someone else (passt's launcher, with BindInbound) that the handler
// never closes, or if pre < 0 one it opens with BindInbound.
func (h *Handler) listen(l policy.Listener, i int, pre int) error {
	fd, borrowed := pre, pre >= 0
	if !borrowed {
		var err error
		if fd, err = BindInbound(l, h.net.HasV4(), h.net.HasV6()); err != nil {
			return err
		}
	}
	to := l.ToPort
	if to == 0 {
		to = l.Port
	}
	if err := h.poller.Add(fd, unix.EPOLLIN, flow.Ref{Kind: flow.KindTCPListen, Index: uint32(i), Fd: int32(fd)}); err != nil {
		if !borrowed {
			unix.Close(fd)
		}
		return fmt.Errorf("tcp: epoll for %v port %d: %w", l.Bind, l.Port, err)
	}
	h.listeners = append(h.listeners, listener{fd: fd, toPort: to, toAddr: l.ToAddr, borrowed: borrowed})
	return nil
}

// BindInbound opens the listening socket of a -t listener: on l.Bind (an
// IPv6 one only for IPv6, as passt), else on every address of the
// families the guest has (hasV4, hasV6; dual-stack when it has both).
func BindInbound(l policy.Listener, hasV4, hasV6 bool) (int, error) {
	s := fwd.ListenSpec{Type: unix.SOCK_STREAM, Addr: l.Bind, V6: true, Iface: l.Iface, Port: l.Port, Freebind: l.Freebind}
	switch {
	case l.Bind.IsValid():
		s.V6Only = true
	case !hasV6:
		s.V6 = false
	case !hasV4:
		s.V6Only = true
	}
	fd, err := fwd.Listen(s)
	if err != nil {
		return -1, fmt.Errorf("tcp: %w", err)
	}
	return fd, nil
}

// ListenPorts returns the local port of each listening socket, in the
// order of Config.Inbound (useful with port 0 in tests).
func (h *Handler) ListenPorts() []uint16 {
	out := make([]uint16, len(h.listeners))
	for i, l := range h.listeners {
		out[i] = fwd.LocalPort(l.fd)
	}
	return out
}
