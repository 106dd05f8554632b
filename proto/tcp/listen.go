// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"fmt"

	"golang.org/x/sys/unix"

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
		if l.fd < 0 || localPort(l.fd) != port {
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
		if h.listeners[i].fd >= 0 && localPort(h.listeners[i].fd) == port {
			return true
		}
	}
	return false
}

// localPort returns the local port of socket fd, 0 if unknown.
func localPort(fd int) uint16 {
	switch a := mustSockname(fd).(type) {
	case *unix.SockaddrInet4:
		return uint16(a.Port)
	case *unix.SockaddrInet6:
		return uint16(a.Port)
	}
	return 0
}

func mustSockname(fd int) unix.Sockaddr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	return sa
}
