// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestIntegrationUDPFlowExpiry: 5,000 flows opened from the namespace (5,000
// source ports to one host port where a sink reads and never answers) hold
// one socket each in pasta; left idle, they expire after the UDP timeout
// (nf_conntrack_udp_timeout, 30 s by default): pasta's descriptor count
// returns to its baseline, not before the timeout, and shortly after.
func TestIntegrationUDPFlowExpiry(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("takes the UDP timeout (~35 s)")
	}
	const flows = 5000
	hostNs := udpHostNs(t)
	timeout := 30 * time.Second
	if b, err := hostCmd(t.Context(), hostNs, "cat", "/proc/sys/net/netfilter/nf_conntrack_udp_timeout").Output(); err == nil {
		if s, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && s > 0 {
			timeout = time.Duration(s) * time.Second
		}
	}
	if timeout > 60*time.Second {
		t.Skipf("nf_conntrack_udp_timeout is %v: too long for this test", timeout)
	}
	// -U none: the sink's port, bound on the host after the baseline,
	// would otherwise be followed into the namespace (-U auto).
	p := startPastaNs(t, hostNs, pastaBin, "gopasst", "-U", "none")

	hostSock := udpNsSocket(t, hostNsPath(hostNs))
	sfd, err := hostSock(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(sfd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	if err := unix.Bind(sfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	f := fileFromFd(sfd)
	sink, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sinkPort := sink.LocalAddr().(*net.UDPAddr).Port
	var got atomic.Int64
	go func() {
		b := make([]byte, 64)
		for {
			if _, _, err := sink.ReadFrom(b); err != nil {
				return
			}
			got.Add(1)
		}
	}()

	base := p.fds(t)
	nsSock := udpNsSocket(t, p.nsPath())
	gw := [4]byte{10, 77, 1, 1}
	start := time.Now()
	for i := range flows {
		fd, err := nsSock(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: 20000 + i}); err != nil {
			unix.Close(fd)
			t.Fatalf("bind port %d in the namespace: %v", 20000+i, err)
		}
		err = unix.Sendto(fd, []byte("flow"), 0, &unix.SockaddrInet4{Addr: gw, Port: sinkPort})
		unix.Close(fd)
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%250 == 249 {
			time.Sleep(5 * time.Millisecond) // leave the tap queue room
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() < flows && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	opened := time.Since(start)
	if n := got.Load(); n != flows {
		t.Fatalf("the sink got %d of %d datagrams", n, flows)
	}
	peak := p.fds(t)
	t.Logf("%d flows in %v; pasta fds: baseline %d, with the flows %d; timeout %v",
		flows, opened.Round(time.Millisecond), base, peak, timeout)
	if peak-base != flows {
		t.Errorf("pasta holds %d more fds, want one per flow (%d)", peak-base, flows)
	}

	// Not before the timeout (minus the time the flows took to open and
	// a second of scan granularity)...
	early := time.Until(start.Add(timeout - 2*time.Second))
	time.Sleep(early)
	if n := p.fds(t); n-base < flows*9/10 {
		t.Errorf("%v after the first flow, %d of %d flow sockets are gone already", time.Since(start).Round(time.Millisecond), flows-(n-base), flows)
	}
	// ...and all of them shortly after.
	deadline = start.Add(timeout + opened + 5*time.Second)
	for {
		n := p.fds(t)
		if n == base {
			t.Logf("back to %d fds %v after the first flow", n, time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d fds %v after the first flow, baseline %d", n, time.Since(start).Round(time.Millisecond), base)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if exited(p.pid) {
		t.Fatal("pasta exited")
	}
	if b, _ := os.ReadFile(p.log); strings.Contains(string(b), "SIGSYS") {
		t.Errorf("pasta log mentions SIGSYS:\n%s", b)
	}
}
