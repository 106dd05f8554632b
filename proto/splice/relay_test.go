// SPDX-License-Identifier: GPL-2.0-or-later

package splice

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/policy"
)

func TestRelayBothWays(t *testing.T) {
	tests := []struct {
		name    string
		network string
		bind    netip.Addr
		n       int64
	}{
		{"IPv4 loopback", "tcp4", netip.Addr{}, 8 << 20},
		{"IPv6 loopback", "tcp6", netip.Addr{}, 8 << 20},
		{"IPv4 any-address", "tcp4", netip.IPv4Unspecified(), 1 << 20},
		{"IPv6 any-address, dual-stack from IPv4", "tcp4", netip.IPv6Unspecified(), 1 << 20},
		{"empty", "tcp4", netip.Addr{}, 0},
		{"one byte", "tcp6", netip.Addr{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := fdCount(t)
			srvRes := make(chan result, 1)
			srvNet := tc.network
			port := server(t, srvNet, func(c *net.TCPConn) { srvRes <- exchange(c, tc.n, 2) })
			l := startLoop(t, Config{})
			lport := l.listen(t, tc.bind, port)
			c := dial(t, tc.network, lport)
			cli := exchange(c, tc.n, 1)
			srv := <-srvRes
			for _, err := range []error{cli.writeErr, cli.rdErr, srv.writeErr, srv.rdErr} {
				if err != nil {
					t.Fatal(err)
				}
			}
			if cli.nSent != tc.n || srv.nGot != tc.n || srv.nSent != tc.n || cli.nGot != tc.n {
				t.Fatalf("bytes: client sent %d got %d, server sent %d got %d, want %d", cli.nSent, cli.nGot, srv.nSent, srv.nGot, tc.n)
			}
			if cli.sent != srv.got || srv.sent != cli.got {
				t.Fatal("SHA-256 of relayed data differs")
			}
			l.waitLen(t, 0)
			st, _ := l.stats()
			if st.Closed != 1 || st.Aborted != 0 || st.BytesToHost != uint64(tc.n) || st.BytesToNs != uint64(tc.n) {
				t.Fatalf("stats %+v", st)
			}
			c.Close()
			// Loop, listener, epoll: gone at cleanup; connection fds now.
			waitFds(t, base+2+fdsPerLoopAndListeners(tc.bind))
		})
	}
}

// fdsPerLoopAndListeners is the number of splice listening sockets for
// bind; with the epoll fd and the test server's listener (the 2 above) it
// is what stays open until the test's cleanup.
func fdsPerLoopAndListeners(bind netip.Addr) int {
	if bind.IsValid() {
		return 1
	}
	return 2
}

func TestHalfClose(t *testing.T) {
	tests := []struct {
		name        string
		clientFirst bool
	}{
		{"client shuts down first", true},
		{"server shuts down first", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := []byte("reply after the other side's FIN")
			srvGot := make(chan []byte, 1)
			port := server(t, "tcp4", func(c *net.TCPConn) {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if tc.clientFirst {
					b, _ := io.ReadAll(c) // to the client's FIN
					srvGot <- b
					c.Write(reply)
					c.CloseWrite()
					return
				}
				c.Write(reply)
				c.CloseWrite()
				b, _ := io.ReadAll(c)
				srvGot <- b
			})
			l := startLoop(t, Config{})
			c := dial(t, "tcp4", l.listen(t, netip.Addr{}, port))
			req := []byte("request, then FIN")
			if tc.clientFirst {
				c.Write(req)
				c.CloseWrite()
				got, err := io.ReadAll(c)
				if err != nil || string(got) != string(reply) {
					t.Fatalf("client read %q, %v", got, err)
				}
			} else {
				got, err := io.ReadAll(c) // to the server's FIN
				if err != nil || string(got) != string(reply) {
					t.Fatalf("client read %q, %v", got, err)
				}
				// The other direction still works after the FIN.
				c.Write(req)
				c.CloseWrite()
			}
			if got := <-srvGot; string(got) != string(req) {
				t.Fatalf("server read %q", got)
			}
			l.waitLen(t, 0)
			if st, _ := l.stats(); st.Closed != 1 || st.Aborted != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestResetPropagation(t *testing.T) {
	tests := []struct {
		name        string
		serverReset bool
	}{
		{"server resets", true},
		{"client resets", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srvErr := make(chan error, 1)
			port := server(t, "tcp4", func(c *net.TCPConn) {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, 5)
				if _, err := io.ReadFull(c, b); err != nil {
					srvErr <- err
					return
				}
				c.Write([]byte("hello"))
				if tc.serverReset {
					c.SetLinger(0)
					c.Close()
					srvErr <- nil
					return
				}
				_, err := io.ReadAll(c)
				srvErr <- err
			})
			l := startLoop(t, Config{})
			c := dial(t, "tcp4", l.listen(t, netip.Addr{}, port))
			c.Write([]byte("hello"))
			b := make([]byte, 5)
			if _, err := io.ReadFull(c, b); err != nil {
				t.Fatal(err)
			}
			if tc.serverReset {
				<-srvErr
				_, err := io.ReadAll(c)
				if !isReset(err) {
					t.Fatalf("client read error %v, want a reset", err)
				}
			} else {
				c.SetLinger(0)
				c.Close()
				if err := <-srvErr; !isReset(err) {
					t.Fatalf("server read error %v, want a reset", err)
				}
			}
			l.waitLen(t, 0)
			if st, _ := l.stats(); st.Aborted != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestConnectRefused(t *testing.T) {
	// A port with nothing listening: bind, note, close.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	l := startLoop(t, Config{})
	if err := dialRead(l.listen(t, netip.Addr{}, dead)); !isReset(err) {
		t.Fatalf("error %v, want a reset", err)
	}
	l.waitLen(t, 0)
	if st, _ := l.stats(); st.ConnectFailed != 1 || st.Aborted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTableFull(t *testing.T) {
	hold := make(chan struct{})
	port := server(t, "tcp4", func(c *net.TCPConn) {
		<-hold
	})
	defer close(hold)
	l := startLoop(t, Config{Capacity: 1})
	lport := l.listen(t, netip.Addr{}, port)
	dial(t, "tcp4", lport)
	l.waitLen(t, 1)
	if err := dialRead(lport); !isReset(err) {
		t.Fatalf("second connection: error %v, want a reset", err)
	}
	st, n := l.stats()
	if st.TableFull != 1 || n != 1 {
		t.Fatalf("Len %d, stats %+v", n, st)
	}
}

func TestBackPressure(t *testing.T) {
	const n = 32 << 20
	release := make(chan struct{})
	srvRes := make(chan result, 1)
	port := server(t, "tcp4", func(c *net.TCPConn) {
		<-release // not reading: the relay must stall, not spin
		srvRes <- exchange(c, 0, 0)
	})
	l := startLoop(t, Config{PipeSize: 1 << 20})
	c := dial(t, "tcp4", l.listen(t, netip.Addr{}, port))
	cliRes := make(chan result, 1)
	go func() { cliRes <- exchange(c, n, 7) }()

	// Wait for the stall: bytes stop moving.
	var last uint64
	for i := 0; ; i++ {
		time.Sleep(50 * time.Millisecond)
		st, _ := l.stats()
		if st.BytesToHost == last && last > 0 {
			break
		}
		last = st.BytesToHost
		if i > 100 {
			t.Fatal("relay never stalled")
		}
	}
	before := l.wakeups.Load()
	time.Sleep(300 * time.Millisecond)
	if spins := l.wakeups.Load() - before; spins > 20 {
		t.Fatalf("%d wake-ups during a 300 ms stall: busy loop", spins)
	}
	var stalled bool
	l.do(func() {
		c := &l.h.conns[0]
		stalled = c.ev&evOutWait1 != 0 && c.polled[0]&unix.EPOLLIN == 0 && c.polled[1]&unix.EPOLLOUT != 0
	})
	if !stalled {
		t.Fatal("connection not in OUT_WAIT_1 with EPOLLIN off on side 0")
	}
	close(release)
	srv, cli := <-srvRes, <-cliRes
	if srv.rdErr != nil || cli.writeErr != nil || srv.nGot != n || srv.got != cli.sent {
		t.Fatalf("server got %d bytes (%v), client wrote %v", srv.nGot, srv.rdErr, cli.writeErr)
	}
}

func TestManyConnections(t *testing.T) {
	const conns, size = 200, 64 << 10
	base := fdCount(t)
	port := server(t, "tcp4", func(c *net.TCPConn) { echo(c) })
	l := startLoop(t, Config{Capacity: conns})
	lport := l.listen(t, netip.Addr{}, port)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", itoa(lport)), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			r := exchange(c.(*net.TCPConn), size, uint64(i))
			if r.rdErr != nil || r.writeErr != nil || r.got != r.sent || r.nGot != size {
				errs <- io.ErrUnexpectedEOF
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l.waitLen(t, 0)
	if st, _ := l.stats(); st.Closed != conns || st.Accepted != conns {
		t.Fatalf("stats %+v", st)
	}
	waitFds(t, base+1+1+2) // epoll, server listener, two splice listeners
}

func TestUnlisten(t *testing.T) {
	port := server(t, "tcp4", func(c *net.TCPConn) {})
	l := startLoop(t, Config{})
	lport := l.listen(t, netip.Addr{}, port)
	var err error
	var bound bool
	l.do(func() { err = l.h.Unlisten(lport); bound = l.h.Bound(lport) })
	if err != nil || bound {
		t.Fatalf("Unlisten: %v, Bound %v", err, bound)
	}
	if _, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", itoa(lport)), time.Second); err == nil {
		t.Fatal("dial after Unlisten succeeded")
	}
	l.do(func() { err = l.h.Unlisten(lport) })
	if err == nil {
		t.Fatal("second Unlisten succeeded")
	}
}

func TestListenerPlacement(t *testing.T) {
	tests := []struct {
		name  string
		bind  netip.Addr
		wantN int
	}{
		{"loopback both families", netip.Addr{}, 2},
		{"explicit IPv4", netip.MustParseAddr("127.0.0.1"), 1},
		{"explicit IPv6 any", netip.IPv6Unspecified(), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := startLoop(t, Config{})
			port := l.listen(t, tc.bind, 9)
			var n int
			var ports []uint16
			l.do(func() {
				for _, li := range l.h.listeners {
					if li.fd >= 0 {
						n++
					}
				}
				ports = l.h.ListenPorts()
			})
			if n != tc.wantN || len(ports) != 1 || ports[0] != port {
				t.Fatalf("%d sockets, ports %v; want %d sockets on port %d", n, ports, tc.wantN, port)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without Poller succeeded")
	}
	p := newPoller(t)
	if _, err := New(Config{Poller: p, Capacity: maxCapacity + 1}); err == nil {
		t.Error("New with capacity above the maximum succeeded")
	}
	if _, err := New(Config{Poller: p, Listeners: []policy.Listener{{Port: 1}}}); err == nil {
		t.Error("New with listeners and no NsSocket succeeded")
	}
	h, err := New(Config{Poller: p, NsSocket: hostSocket, PipeSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.PipeSize() != minPipeSize {
		t.Errorf("PipeSize %d, want %d", h.PipeSize(), minPipeSize)
	}
}

func TestStaleRefs(t *testing.T) {
	l := startLoop(t, Config{Capacity: 4})
	refs := []flow.Ref{
		{Kind: flow.KindSplice, Index: 0, Fd: 3},
		{Kind: flow.KindSplice, Index: flow.MaxIndex, Fd: -1},
		{Kind: flow.KindSpliceListen, Index: 7, Fd: 3},
		{Kind: flow.KindSpliceListen, Index: flow.MaxIndex, Fd: 0},
		{Kind: flow.KindTCP, Index: 1, Fd: 1},
	}
	l.do(func() {
		for _, r := range refs {
			l.h.HandleSock(r, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP, 0)
		}
	})
	if _, n := l.stats(); n != 0 {
		t.Fatalf("Len %d after stale refs", n)
	}
}

func TestEventsString(t *testing.T) {
	tests := []struct {
		ev   events
		want string
	}{
		{0, "CLOSED"},
		{evConnecting, "CONNECTING"},
		{evEstablished | evFinRcvd0 | evOutWait1, "ESTABLISHED|FIN_RCVD_0|OUT_WAIT_1"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.ev.String(); got != tc.want {
				t.Fatalf("String() = %q", got)
			}
		})
	}
}

// dialRead connects to port and reads to EOF. The reset it expects may
// already fail the connect, when it beats the client's ACK processing.
func dialRead(port uint16) error {
	c, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", itoa(port)), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(c)
	return err
}
