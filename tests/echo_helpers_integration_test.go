// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// Clients that stand where a user stands, in a namespace the test made:
// a UDP request/response exchange and an HTTP GET, plus the static echo
// server (tests/echod) that containers and namespaces run.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	echodOnce sync.Once
	echodPath string
	echodErr  error
)

// echodBin builds tests/echod (static) once per run, into binDir.
func echodBin(t *testing.T) string {
	t.Helper()
	echodOnce.Do(func() {
		echodPath = filepath.Join(binDir, "echod")
		cmd := exec.Command("go", "build", "-o", echodPath, "gopasst/tests/echod")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			echodErr = fmt.Errorf("build echod: %v: %s", err, out)
		}
	})
	if echodErr != nil {
		t.Fatal(echodErr)
	}
	return echodPath
}

// nsUDPConn returns a UDP socket opened with nsSock (so inside that
// namespace), connected to dst.
func nsUDPConn(t *testing.T, nsSock func(domain, typ, proto int) (int, error), dst netip.AddrPort) *net.UDPConn {
	t.Helper()
	af := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Addr: dst.Addr().As16(), Port: int(dst.Port())}
	if dst.Addr().Is4() {
		af = unix.AF_INET
		sa = &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())}
	}
	fd, err := nsSock(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		t.Fatalf("connect %v: %v", dst, err)
	}
	f := fileFromFd(fd)
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.UDPConn)
}

// udpExchange sends payload on c and waits for the same bytes back,
// trying up to tries times with wait each; it returns nil once the echo
// arrived.
func udpExchange(c *net.UDPConn, payload []byte, tries int, wait time.Duration) error {
	buf := make([]byte, 65536)
	var last error
	for range tries {
		if _, err := c.Write(payload); err != nil {
			last = err
			time.Sleep(wait)
			continue
		}
		deadline := time.Now().Add(wait)
		for {
			c.SetReadDeadline(deadline)
			n, err := c.Read(buf)
			if err != nil {
				// An ICMP error (nothing bound yet) fails the read at
				// once: wait out the try before the next.
				last = err
				time.Sleep(time.Until(deadline))
				break
			}
			if bytes.Equal(buf[:n], payload) {
				return nil
			}
			last = fmt.Errorf("got %d bytes, not the %d sent", n, len(payload))
		}
	}
	return fmt.Errorf("no echo of %d bytes after %d tries: %v", len(payload), tries, last)
}

// udpEchoFrom sends payload to dst from a socket in the namespace nsSock
// opens sockets in, and checks the echo.
func udpEchoFrom(t *testing.T, nsSock func(domain, typ, proto int) (int, error), dst netip.AddrPort, payload []byte) error {
	t.Helper()
	c := nsUDPConn(t, nsSock, dst)
	defer c.Close()
	return udpExchange(c, payload, 3, time.Second)
}

// curlIn fetches url with curl inside the named network namespace.
func curlIn(ns, url string) (string, error) {
	out, err := exec.Command("nsenter", "--net=/run/netns/"+ns, "curl", "-sS", "-g",
		"--max-time", "5", url).CombinedOutput()
	return string(out), err
}

// nsTCPDial connects to dst with a TCP socket opened with nsSock (inside
// that namespace).
func nsTCPDial(nsSock func(domain, typ, proto int) (int, error), dst netip.AddrPort) (net.Conn, error) {
	af := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Addr: dst.Addr().As16(), Port: int(dst.Port())}
	if dst.Addr().Is4() {
		af = unix.AF_INET
		sa = &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())}
	}
	fd, err := nsSock(af, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := fileFromFd(fd)
	defer f.Close()
	return net.FileConn(f)
}

// readFull reads len(b) bytes or fails.
func readFull(c net.Conn, b []byte) (int, error) { return io.ReadFull(c, b) }
