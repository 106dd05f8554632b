// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/guest"
	"gopasst/policy"
	"gopasst/proto/udp"
)

// udpEpoll is a minimal flow.Poller on a real epoll set.
type udpEpoll struct{ fd int }

func (p *udpEpoll) ctl(op, fd int, events uint32, ref flow.Ref) error {
	v := ref.Pack()
	ev := unix.EpollEvent{Events: events, Fd: int32(uint32(v)), Pad: int32(uint32(v >> 32))}
	return unix.EpollCtl(p.fd, op, fd, &ev)
}
func (p *udpEpoll) Add(fd int, ev uint32, r flow.Ref) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, ev, r)
}
func (p *udpEpoll) Mod(fd int, ev uint32, r flow.Ref) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, ev, r)
}
func (p *udpEpoll) Del(fd int) error { return unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil) }

type udpNoTap struct{ n int }

func (t *udpNoTap) Send(f [][]byte) { t.n += len(f) }

// udpNsSocket returns a function that opens sockets inside the network
// namespace at path, as pasta's NsSocket does.
func udpNsSocket(t *testing.T, path string) func(domain, typ, proto int) (int, error) {
	t.Helper()
	ns, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(ns) })
	return func(domain, typ, proto int) (int, error) {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			return -1, err
		}
		defer unix.Close(self)
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			return -1, err
		}
		fd, serr := unix.Socket(domain, typ, proto)
		if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
			return -1, err // the thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		return fd, serr
	}
}

// TestIntegrationUDPNsSplice forwards a -U port: a client inside a fresh
// namespace sends to the namespace's loopback, the datagram reaches an
// echo server on the host's loopback, and the echo comes back.
func TestIntegrationUDPNsSplice(t *testing.T) {
	requireRoot(t)
	name := addNetns(t, fmt.Sprintf("gpudp%d", os.Getpid()))
	mustRun(t, "ip", "-n", name, "link", "set", "lo", "up")
	nsSock := udpNsSocket(t, "/var/run/netns/"+name)

	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(buf[:n], from)
		}
	}()

	// A port that is free on the host: the listener must not be there.
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	tap := &udpNoTap{}
	h, err := udp.New(udp.Config{
		Net:       &guest.Net{V4: guest.Family{Addr: netip.MustParseAddr("10.0.2.15")}},
		Poller:    &udpEpoll{epfd},
		Tap:       tap,
		Capacity:  16,
		NsInbound: []policy.Listener{{Port: uint16(port), ToPort: uint16(srv.LocalAddr().(*net.UDPAddr).Port)}},
		NsSocket:  nsSock,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
		t.Errorf("port %d is bound on the host, not (only) in the namespace: %v", port, err)
	} else {
		c.Close()
	}

	cl, err := nsSock(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cl)
	if err := unix.Connect(cl, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(cl, []byte("through the namespace")); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 8)
	buf := make([]byte, 100)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		n, _ := unix.EpollWait(epfd, events, 50)
		for _, ev := range events[:max(n, 0)] {
			h.HandleSock(flow.Unpack(uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32), ev.Events, 0)
		}
		h.End(0)
		if m, err := unix.Read(cl, buf); err == nil {
			if string(buf[:m]) != "through the namespace" {
				t.Fatalf("client got %q", buf[:m])
			}
			if st := h.Counts(); st.Spliced != 2 || tap.n != 0 {
				t.Errorf("stats %+v, %d frames to the tap", st, tap.n)
			}
			return
		}
	}
	t.Fatalf("no echo; stats %+v", h.Counts())
}
