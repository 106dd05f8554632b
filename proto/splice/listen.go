// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/policy"
)

// listener is a listening socket inside the namespace and where its
// connections go.
type listener struct {
	fd          int        // -1: free slot
	port        uint16     // bound port (Listener.Port, or the kernel's pick for 0)
	toPort      uint16     // host port connections go to
	toAddr      netip.Addr // host address; invalid = loopback of the client's family
	pausedUntil int64      // monotonic ns; 0 = not paused
}

// Listen opens the listening sockets for l inside the namespace: on
// 127.0.0.1 and [::1] if l.Bind is invalid (either may fail, not both),
// else on l.Bind. Port 0 picks one port for both families. l.ToPort 0
// means l.Port.
func (h *Handler) Listen(l policy.Listener) error {
	if h.nsSocket == nil {
		return errors.New("splice: no NsSocket to open listeners with")
	}
	to := l.ToPort
	if to == 0 {
		to = l.Port
	}
	if l.Bind.IsValid() {
		_, err := h.listenOne(l.Bind.Unmap(), l.Iface, l.Port, to, l.ToAddr)
		return err
	}
	// The loopback of each family the guest has: the IPv6 socket takes
	// the port the IPv4 one got (an -T of port 0).
	port := l.Port
	var err4, err6 error
	if !h.noV4 {
		if port, err4 = h.listenOne(fwd.Loopback(false), l.Iface, l.Port, to, l.ToAddr); err4 != nil {
			port = l.Port
		}
	}
	if !h.noV6 {
		_, err6 = h.listenOne(fwd.Loopback(true), l.Iface, port, to, l.ToAddr)
	}
	if (h.noV4 || err4 != nil) && (h.noV6 || err6 != nil) {
		return errors.Join(err4, err6)
	}
	if h.trace && (err4 != nil || err6 != nil) {
		h.log.Debug("splice: listener on one family only", "port", l.Port, "err", errors.Join(err4, err6))
	}
	return nil
}

// listenOne opens one listening socket and returns its port. An IPv6
// socket is IPv6 only unless bound to "::", which serves both families.
func (h *Handler) listenOne(bind netip.Addr, iface string, port, toPort uint16, toAddr netip.Addr) (uint16, error) {
	fd, err := fwd.Listen(fwd.ListenSpec{
		Type: unix.SOCK_STREAM, Addr: bind, V6Only: !bind.IsUnspecified(),
		Iface: iface, Port: port, Socket: h.nsSocket,
	})
	if err != nil {
		return 0, fmt.Errorf("splice: %w", err)
	}
	fail := func(what string, err error) (uint16, error) {
		unix.Close(fd)
		return 0, fmt.Errorf("splice: %s for %v port %d: %w", what, bind, port, err)
	}
	bound := port
	if bound == 0 {
		if bound = fwd.LocalPort(fd); bound == 0 {
			return fail("getsockname", unix.EINVAL)
		}
		if toPort == 0 {
			toPort = bound
		}
	}
	i := slot(h.listeners)
	if i == len(h.listeners) {
		h.listeners = append(h.listeners, listener{fd: -1})
	}
	if err := h.poller.Add(fd, unix.EPOLLIN, flow.Ref{Kind: flow.KindSpliceListen, Index: uint32(i), Fd: int32(fd)}); err != nil {
		return fail("epoll", err)
	}
	h.listeners[i] = listener{fd: fd, port: bound, toPort: toPort, toAddr: toAddr}
	return bound, nil
}

// slot returns the first free listener slot, or len(ls).
func slot(ls []listener) int {
	for i := range ls {
		if ls[i].fd < 0 {
			return i
		}
	}
	return len(ls)
}

// Unlisten closes every listener bound to port. Connections already
// accepted go on.
func (h *Handler) Unlisten(port uint16) error {
	found := false
	for i := range h.listeners {
		if h.listeners[i].fd >= 0 && h.listeners[i].port == port {
			h.closeListener(i)
			found = true
		}
	}
	if !found {
		return fmt.Errorf("splice: no listener on port %d", port)
	}
	return nil
}

// closeListener closes listener slot i and frees it.
func (h *Handler) closeListener(i int) {
	l := &h.listeners[i]
	if l.fd < 0 {
		return
	}
	_ = h.poller.Del(l.fd)
	unix.Close(l.fd)
	if l.pausedUntil != 0 {
		h.paused--
	}
	*l = listener{fd: -1}
}

// ListenPorts returns the ports of the open listeners, one per port.
func (h *Handler) ListenPorts() []uint16 {
	var out []uint16
	for _, l := range h.listeners {
		if l.fd >= 0 && !slices.Contains(out, l.port) {
			out = append(out, l.port)
		}
	}
	return out
}

// Bound reports whether a listener of this handler holds port inside the
// namespace: the "own ports" a fwd.Scanner of the namespace must skip.
func (h *Handler) Bound(port uint16) bool {
	for i := range h.listeners {
		if h.listeners[i].fd >= 0 && h.listeners[i].port == port {
			return true
		}
	}
	return false
}

// listenRef returns the epoll reference of listener slot i.
func (h *Handler) listenRef(i int) flow.Ref {
	return flow.Ref{Kind: flow.KindSpliceListen, Index: uint32(i), Fd: int32(h.listeners[i].fd)}
}

// accept takes pending connections from listener li and starts their host
// connects. Mirrors tcp_listen_handler() and tcp_splice_conn_from_sock()
// in passt.
func (h *Handler) accept(li int, now int64) {
	for range maxAcceptBatch {
		l := &h.listeners[li]
		fd, e := fwd.Accept(l.fd, &h.rsa)
		switch e {
		case 0:
		case unix.EAGAIN, unix.EINTR:
			return
		case unix.ECONNABORTED, unix.EPERM, unix.EPROTO:
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			h.counts.AcceptPaused++
			if l.pausedUntil == 0 {
				h.paused++
			}
			l.pausedUntil = now + acceptPause
			if l.pausedUntil == 0 {
				l.pausedUntil = 1
			}
			_ = h.poller.Mod(l.fd, 0, h.listenRef(li))
			return
		default:
			return
		}
		srcAP, ok := fwd.RawAddrPort(&h.rsa)
		src := srcAP.Addr()
		if !ok || !src.IsLoopback() {
			h.counts.NotLoopback++
			unix.Close(fd)
			continue
		}
		if h.n == len(h.conns) {
			h.counts.TableFull++
			closeReset(fd)
			continue
		}
		// The namespace opening a connection to the host is egress: the
		// gate checks the real destination. The kernel has accepted the
		// client already; refusing it is a reset, ECONNRESET at once.
		dst := h.destination(src.Is4(), l)
		if !h.gate.Open(policy.ProtoTCP, audit.Outbound, srcAP, dst, now) {
			h.counts.Refused++
			closeReset(fd)
			continue
		}
		h.counts.Accepted++
		h.open(fd, srcAP, dst, now, false)
	}
}

// destination returns where a connection accepted on l goes: its target
// address, or the host's loopback of the client's family.
func (h *Handler) destination(v4 bool, l *listener) netip.AddrPort {
	dst := l.toAddr
	if !dst.IsValid() {
		dst = fwd.Loopback(!v4)
	}
	return netip.AddrPortFrom(dst.Unmap(), l.toPort)
}

// closeReset closes fd so that the peer sees a reset.
func closeReset(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	unix.Close(fd)
}

// Adopt takes over fd, a connection accepted on a -t listener in the
// host's namespace from a loopback client, and relays it to dst inside the
// namespace: the reverse direction of the -T path, passt's splice of
// inbound loopback connections (tcp_splice_conn_from_sock() for
// PIF_HOST). It is not egress: the flow policy is not asked. The handler
// owns fd from the call on; false means the connection was refused
// (reset).
func (h *Handler) Adopt(fd int, dst netip.AddrPort) bool {
	if h.nsSocket == nil || h.n == len(h.conns) {
		h.counts.TableFull++
		closeReset(fd)
		return false
	}
	h.counts.Adopted++
	return h.open(fd, netip.AddrPort{}, dst, 0, true)
}

// open sets up a connection for accepted socket fd (side 0) and starts
// connecting side 1 to to: on the host, or for in (Adopt) inside the
// namespace through NsSocket. Mirrors tcp_splice_connect() in passt.
// false means it was reset.
func (h *Handler) open(fd int, client, to netip.AddrPort, now int64, in bool) bool {
	idx := h.n
	h.n++
	h.live++
	h.liveAny.Store(int64(h.live))
	c := &h.conns[idx]
	c.reset()
	c.sock[0] = int32(fd)
	c.ev = evConnecting
	c.client, c.host, c.opened, c.gated, c.in = client, to, now, !in, in
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)

	var sa unix.Sockaddr
	domain := unix.AF_INET
	dst := to.Addr()
	if dst.Is4() {
		h.sa4.Port, h.sa4.Addr = int(to.Port()), dst.As4()
		sa = &h.sa4
	} else {
		domain = unix.AF_INET6
		h.sa6.Port, h.sa6.Addr = int(to.Port()), dst.As16()
		sa = &h.sa6
	}
	typ := unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	var s int
	var err error
	if in {
		s, err = h.nsConn(domain, typ, 0)
	} else {
		s, err = unix.Socket(domain, typ, 0)
	}
	if err != nil {
		h.counts.ConnectFailed++
		h.closeConn(idx, true)
		return false
	}
	c.sock[1] = int32(s)
	_ = unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
	err = unix.Connect(s, sa)
	switch err {
	case nil:
		if !h.established(idx) {
			return false
		}
	case unix.EINPROGRESS:
	default:
		h.counts.ConnectFailed++
		h.closeConn(idx, true)
		return false
	}
	if h.trace {
		h.log.Debug("splice: accepted", "idx", idx, "to", to, "into namespace", in)
	}
	h.updatePoll(idx)
	return true
}
