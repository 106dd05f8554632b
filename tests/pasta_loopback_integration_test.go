// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// whoamiServers serves, inside the namespace nsSock opens sockets in, on
// bind (an address or "::"), TCP (HTTP) and UDP port port: both answer
// with the client's address as the server sees it.
func whoamiServers(t *testing.T, nsSock func(domain, typ, proto int) (int, error), bind string, port int) {
	t.Helper()
	a := netip.MustParseAddr(bind)
	af := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Addr: a.As16(), Port: port}
	if a.Is4() {
		af, sa = unix.AF_INET, &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	open := func(typ int) int {
		fd, err := nsSock(af, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if af == unix.AF_INET6 {
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		}
		if err := unix.Bind(fd, sa); err != nil {
			t.Fatalf("bind %s port %d: %v", bind, port, err)
		}
		return fd
	}
	tfd := open(unix.SOCK_STREAM)
	unix.Listen(tfd, 64)
	f := fileFromFd(tfd)
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, _ := netip.ParseAddrPort(r.RemoteAddr)
		fmt.Fprintf(w, "from %s\n", ap.Addr().Unmap())
	}))
	f = fileFromFd(open(unix.SOCK_DGRAM))
	pc, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			ap := from.(*net.UDPAddr).AddrPort()
			pc.WriteTo(append(buf[:n:n], fmt.Sprintf(" from %s", ap.Addr().Unmap())...), from)
		}
	}()
}

// udpAsk sends msg to dst from the namespace nsSock opens sockets in and
// returns the first reply, trying three times.
func udpAsk(t *testing.T, nsSock func(domain, typ, proto int) (int, error), dst netip.AddrPort, msg string) (string, error) {
	t.Helper()
	c := nsUDPConn(t, nsSock, dst)
	defer c.Close()
	buf := make([]byte, 65536)
	var err error
	for range 3 {
		if _, err = c.Write([]byte(msg)); err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		var n int
		if n, err = c.Read(buf); err == nil {
			return string(buf[:n]), nil
		}
	}
	return "", err
}

// TestIntegrationPastaLoopbackSplice: with podman's --no-map-gw, clients
// on the host's loopback reach -t and -u forwards (127.0.0.1 and ::1)
// through the splice path, arriving from the namespace's own address (its
// loopback with --host-lo-to-ns-lo); --no-splice sends them through the
// tap, from the gateway. Clients on the host's address go through the
// tap in every mode.
func TestIntegrationPastaLoopbackSplice(t *testing.T) {
	const port = 5311
	for _, tc := range []struct {
		name string
		args []string
		bind string // where the namespace's servers listen
		// what the server sees for clients on 127.0.0.1, ::1, the host's
		// IPv4 and IPv6 addresses
		lo4, lo6, host4, host6 string
	}{
		{"splice", nil, "::", uhAddr4, uhAddr6, uhGw4, uhGw6},
		{"host-lo-to-ns-lo", []string{"--host-lo-to-ns-lo"}, "::", "127.0.0.1", "::1", uhGw4, uhGw6},
		{"no-splice", []string{"--no-splice"}, "::", uhGw4, uhGw6, uhGw4, uhGw6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostNs := udpHostNs(t)
			args := append([]string{"--no-map-gw", "-t", fmt.Sprint(port), "-u", fmt.Sprint(port)}, tc.args...)
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", args...)
			whoamiServers(t, udpNsSocket(t, p.nsPath()), tc.bind, port)
			hostSock := udpNsSocket(t, hostNsPath(hostNs))
			for _, c := range []struct{ client, want string }{
				{"127.0.0.1", tc.lo4}, {"::1", tc.lo6}, {uhAddr4, tc.host4}, {uhAddr6, tc.host6},
			} {
				dst := netip.AddrPortFrom(netip.MustParseAddr(c.client), port)
				out, err := curlIn(hostNs, "http://"+dst.String()+"/")
				if err != nil || !strings.HasPrefix(out, "from "+c.want) {
					t.Errorf("TCP to %v: %v: %q, want from %s", dst, err, out, c.want)
				}
				reply, err := udpAsk(t, hostSock, dst, "hi")
				if err != nil || !strings.HasPrefix(reply, "hi from "+c.want) {
					t.Errorf("UDP to %v: %v: %q, want from %s", dst, err, reply, c.want)
				}
			}
		})
	}

	// A service on the namespace's loopback only is reached from the
	// host's loopback with --host-lo-to-ns-lo, and not without it.
	for _, lo2lo := range []bool{false, true} {
		t.Run(fmt.Sprintf("ns loopback service, host-lo-to-ns-lo %v", lo2lo), func(t *testing.T) {
			hostNs := udpHostNs(t)
			args := []string{"--no-map-gw", "-t", fmt.Sprint(port)}
			if lo2lo {
				args = append(args, "--host-lo-to-ns-lo")
			}
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", args...)
			whoamiServers(t, udpNsSocket(t, p.nsPath()), "127.0.0.1", port)
			out, err := curlIn(hostNs, fmt.Sprintf("http://127.0.0.1:%d/", port))
			if reached := err == nil && strings.HasPrefix(out, "from 127.0.0.1"); reached != lo2lo {
				t.Errorf("namespace loopback service reached: %v (%v: %q), want %v", reached, err, out, lo2lo)
			}
		})
	}
}

// TestIntegrationPastaOutboundNoSplice: -T and -U forward the namespace's
// loopback ports to the host's loopback with and without --no-splice,
// which only concerns inbound traffic (upstream's "bypass path for
// inbound, local traffic"): a client in the namespace reaches a service
// on the host's 127.0.0.1 and ::1, which sees it come from its own
// loopback.
func TestIntegrationPastaOutboundNoSplice(t *testing.T) {
	const port = 5312
	for _, extra := range [][]string{nil, {"--no-splice"}} {
		t.Run(fmt.Sprint(extra), func(t *testing.T) {
			hostNs := udpHostNs(t)
			whoamiServers(t, udpNsSocket(t, hostNsPath(hostNs)), "::", port)
			args := append([]string{"-t", "none", "-u", "none", "-T", fmt.Sprint(port), "-U", fmt.Sprint(port)}, extra...)
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", args...)
			nsSock := udpNsSocket(t, p.nsPath())
			for _, lo := range []string{"127.0.0.1", "::1"} {
				dst := netip.AddrPortFrom(netip.MustParseAddr(lo), port)
				out, err := exec.Command("nsenter", "--net="+p.nsPath(), "curl", "-sS", "-g",
					"--max-time", "5", "http://"+dst.String()+"/").CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "from "+lo) {
					t.Errorf("TCP to %v: %v: %q, want from %s", dst, err, out, lo)
				}
				reply, err := udpAsk(t, nsSock, dst, "hi")
				if err != nil || !strings.HasPrefix(reply, "hi from "+lo) {
					t.Errorf("UDP to %v: %v: %q, want from %s", dst, err, reply, lo)
				}
			}
		})
	}
}

// TestIntegrationPastaFamilyListeners: with -4 (rootlesskit's
// --ipv4-only), -t and -u listen on the host's IPv4 wildcard only, and -T
// and -U on the namespace's 127.0.0.1 only, as passt binds no socket of a
// family it does not serve; without it, -t and -u are dual-stack and -T
// and -U have both loopbacks. The listeners are read with ss.
func TestIntegrationPastaFamilyListeners(t *testing.T) {
	const in, out = 5313, 5314
	for _, tc := range []struct {
		name     string
		args     []string
		host, ns []string // "ss" local addresses, each for TCP and UDP
	}{
		{"both", nil, []string{fmt.Sprintf("*:%d", in)}, []string{fmt.Sprintf("127.0.0.1:%d", out), fmt.Sprintf("[::1]:%d", out)}},
		{"-4", []string{"-4"}, []string{fmt.Sprintf("0.0.0.0:%d", in)}, []string{fmt.Sprintf("127.0.0.1:%d", out)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostNs := udpHostNs(t)
			args := append([]string{"-t", fmt.Sprint(in), "-u", fmt.Sprint(in), "-T", fmt.Sprint(out), "-U", fmt.Sprint(out)}, tc.args...)
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", args...)
			for _, side := range []struct {
				where string
				argv  []string
				port  int
				want  []string
			}{
				{"host", []string{"ip", "netns", "exec", hostNs}, in, tc.host},
				{"namespace", []string{"nsenter", "--net=" + p.nsPath()}, out, tc.ns},
			} {
				for _, proto := range []string{"-ltnH", "-lunH"} {
					argv := append(append([]string{}, side.argv...), "ss", proto, fmt.Sprintf("sport = :%d", side.port))
					b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
					if err != nil {
						t.Fatalf("%v: %v: %s", argv, err, b)
					}
					var got []string
					for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
						if f := strings.Fields(line); len(f) >= 4 {
							got = append(got, f[3])
						}
					}
					slices.Sort(got)
					want := slices.Sorted(slices.Values(side.want))
					if !slices.Equal(got, want) {
						t.Errorf("%s %s listeners on port %d: %q, want %q", side.where, proto, side.port, got, want)
					}
				}
			}
		})
	}
}
