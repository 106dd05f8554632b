// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostEcho runs an echo server on host loopback until cleanup: each
// connection is echoed until the client's FIN, then closed. It holds one
// descriptor per connection.
func hostEcho(t *testing.T, network, addr string) int {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				// Not io.Copy(c, c): its splice(2) takes a pipe, two
				// descriptors, per connection (TestIntegrationTCPBeyond8192
				// holds both ends of 8,500).
				io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, make([]byte, 4<<10))
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// failConns reports the first five errors of a closed channel and fails
// with their count out of conns connections: "N of conns connections
// what".
func failConns(t *testing.T, errs <-chan error, conns int, what string) {
	t.Helper()
	bad := 0
	for err := range errs {
		if bad < 5 {
			t.Error(err)
		}
		bad++
	}
	if bad > 0 {
		t.Fatalf("%d of %d connections %s", bad, conns, what)
	}
}

// TestIntegrationTCPManyConnections opens 1,000 connections from the
// namespace at once, each echoing 64 KiB through a server on host
// loopback, checks every byte, closes them, and then checks that pasta's
// descriptors (one socket per connection) are back to the baseline: the
// connection table is empty.
func TestIntegrationTCPManyConnections(t *testing.T) {
	const conns, size = 1000, 64 << 10
	// No auto forwarding: the echo server bound on the host after the
	// baseline would otherwise get spliced listeners in the namespace.
	n := startTCPNet(t, fmt.Sprintf("gptcpm%d", os.Getpid()), "-t", "none", "-T", "none", "-u", "none", "-U", "none")
	port := hostEcho(t, "tcp4", "127.0.0.1:0")
	addr := net.JoinHostPort(n.gw4, strconv.Itoa(port))
	base := fdCount(t, n.pid)

	cs := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	for i := range conns {
		c, err := n.dial(t, "tcp4", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		cs = append(cs, c)
	}
	if got := fdCount(t, n.pid); got < base+conns {
		t.Errorf("pasta holds %d descriptors with %d connections open, baseline %d", got, conns, base)
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			data := bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, size/3+1)[:size]
			go func() {
				c.Write(data)
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			switch {
			case err != nil:
				errs <- fmt.Errorf("connection %d: %v after %d bytes", i, err, len(got))
			case !bytes.Equal(got, data):
				errs <- fmt.Errorf("connection %d: echo of %d bytes differs (%d back)", i, size, len(got))
			}
		}()
	}
	wg.Wait()
	close(errs)
	failConns(t, errs, conns, "failed")
	for _, c := range cs {
		c.Close()
	}
	cs = nil
	if got := waitFds(t, n.pid, base, 10*time.Second); got != base {
		t.Fatalf("pasta holds %d descriptors 10 s after all connections closed, baseline %d", got, base)
	}
}

// TestIntegrationTCPHalfClose: one side shuts down its write side and
// keeps receiving 10 MiB, in both directions, over the tap.
func TestIntegrationTCPHalfClose(t *testing.T) {
	const size = 10 << 20
	n := startTCPNet(t, fmt.Sprintf("gptcph%d", os.Getpid()))
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := net.JoinHostPort(n.gw4, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))

	// serve accepts one connection and runs fn on it.
	serve := func(fn func(c *net.TCPConn) error) chan error {
		done := make(chan error, 1)
		go func() {
			l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			c, err := l.Accept()
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			done <- fn(c.(*net.TCPConn))
		}()
		return done
	}

	t.Run("namespace_closes_first", func(t *testing.T) {
		// The client sends a request and shuts down writing; the host
		// reads it to EOF, then sends 10 MiB.
		done := serve(func(c *net.TCPConn) error {
			req, err := io.ReadAll(c)
			if err != nil || string(req) != "request" {
				return fmt.Errorf("request %q, %v", req, err)
			}
			if _, err := sendPattern(c, size); err != nil {
				return err
			}
			return c.CloseWrite()
		})
		c, err := n.dial(t, "tcp4", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		c.Write([]byte("request"))
		c.(*net.TCPConn).CloseWrite()
		want, _ := sendPattern(io.Discard, size)
		got, sum, err := recvHash(c)
		if err != nil || got != size || sum != want {
			t.Fatalf("after our FIN: received %d bytes (%v), hash equal %v", got, err, sum == want)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("host_closes_first", func(t *testing.T) {
		// The host sends a greeting and shuts down writing; the client
		// reads it to EOF, then sends 10 MiB, which the host receives.
		type res struct {
			n   int64
			sum string
		}
		got := make(chan res, 1)
		done := serve(func(c *net.TCPConn) error {
			c.Write([]byte("greeting"))
			if err := c.CloseWrite(); err != nil {
				return err
			}
			n, sum, err := recvHash(c)
			got <- res{n, sum}
			return err
		})
		c, err := n.dial(t, "tcp4", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		g, err := io.ReadAll(c)
		if err != nil || string(g) != "greeting" {
			t.Fatalf("greeting %q, %v", g, err)
		}
		sent, err := sendPattern(c, size)
		if err != nil {
			t.Fatalf("sending after the host's FIN: %v", err)
		}
		c.(*net.TCPConn).CloseWrite()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r := <-got; r.n != size || r.sum != sent {
			t.Fatalf("host received %d bytes after its FIN, hash equal %v", r.n, r.sum == sent)
		}
	})
}

// TestIntegrationTCPResetAndRefused: a host server that closes with
// SO_LINGER 0 makes the client in the namespace see ECONNRESET; a port
// nobody listens on gives ECONNREFUSED within 1 s.
func TestIntegrationTCPResetAndRefused(t *testing.T) {
	n := startTCPNet(t, fmt.Sprintf("gptcpr%d", os.Getpid()))
	t.Run("reset", func(t *testing.T) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			c, err := l.Accept()
			if err != nil {
				return
			}
			b := make([]byte, 5)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.ReadFull(c, b)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}()
		c, err := n.dial(t, "tcp4", net.JoinHostPort(n.gw4, strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("hello"))
		start := time.Now()
		_, err = c.Read(make([]byte, 10))
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read after the host's reset: %v, want ECONNRESET", err)
		}
		t.Logf("ECONNRESET %v after the request", time.Since(start).Round(time.Microsecond))
	})
	t.Run("refused", func(t *testing.T) {
		for _, fam := range []struct{ network, gw string }{{"tcp4", n.gw4}, {"tcp6", n.gw6}} {
			if fam.gw == "" {
				continue
			}
			port := freePort(t)
			start := time.Now()
			c, err := n.dial(t, fam.network, net.JoinHostPort(fam.gw, strconv.Itoa(port)), 3*time.Second)
			el := time.Since(start)
			if err == nil {
				c.Close()
				t.Fatalf("%s: connected to port %d, which nobody listens on", fam.network, port)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) || el > time.Second {
				t.Fatalf("%s: %v after %v, want ECONNREFUSED within 1 s", fam.network, err, el)
			}
			t.Logf("%s: ECONNREFUSED after %v", fam.network, el.Round(time.Microsecond))
		}
	})
}
