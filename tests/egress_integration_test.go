// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// The egress policy, the flow limits and the audit log, seen from the
// guest of a pasta namespace. The "host" is a private namespace
// (udpHostNs) with two extra networks on its loopback: 10.202.0.0/24,
// which the rules deny, and 10.203.0.0/24, which they allow. The guest
// reaches both through pasta's default route, as it would reach any
// host-side address.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	egDenied4   = "10.202.0.1" // in the denied prefix
	egAllowed4  = "10.203.0.1" // allowed
	egDenyRule  = "10.202.0.0/24"
	egDenied6   = "fd00:202::1" // in the denied IPv6 prefix
	egAllowed6  = "fd00:203::1"
	egDenyRule6 = "fd00:202::/64"
	egPort      = 8080 // TCP and UDP servers on every address
)

// egressHost makes the private host with the two networks and a TCP and a
// UDP echo server on each address. accepted counts the TCP connections
// each server saw.
type egressHost struct {
	ns       string
	sock     func(domain, typ, proto int) (int, error)
	accepted map[string]chan net.Conn
}

func newEgressHost(t *testing.T) *egressHost {
	t.Helper()
	ns := udpHostNs(t)
	for _, a := range []string{egDenied4 + "/24", egAllowed4 + "/24", egDenied6 + "/64", egAllowed6 + "/64"} {
		mustRun(t, "ip", "-n", ns, "addr", "add", a, "dev", "lo")
	}
	h := &egressHost{ns: ns, sock: udpNsSocket(t, hostNsPath(ns)), accepted: map[string]chan net.Conn{}}
	for _, a := range []string{egDenied4, egAllowed4, egDenied6, egAllowed6} {
		ch := make(chan net.Conn, 16)
		h.accepted[a] = ch
		ln := h.listen(t, unix.SOCK_STREAM, a, egPort).(net.Listener)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				ch <- c
			}
		}()
		pc := h.listen(t, unix.SOCK_DGRAM, a, egPort).(net.PacketConn)
		go func() {
			b := make([]byte, 2048)
			for {
				n, from, err := pc.ReadFrom(b)
				if err != nil {
					return
				}
				pc.WriteTo(b[:n], from)
			}
		}()
	}
	return h
}

// listen opens a TCP listener or a UDP socket on addr:port in the host.
func (h *egressHost) listen(t *testing.T, typ int, addr string, port int) any {
	t.Helper()
	af, sa := egSockaddr(addr, port)
	fd, err := h.sock(af, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	f := fileFromFd(fd)
	defer f.Close()
	if typ == unix.SOCK_STREAM {
		if err := unix.Listen(fd, 16); err != nil {
			t.Fatal(err)
		}
		ln, err := net.FileListener(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// egSockaddr returns the family and socket address of addr:port.
func egSockaddr(addr string, port int) (int, unix.Sockaddr) {
	a := netip.MustParseAddr(addr)
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

// egressDial connects a TCP socket from the namespace to addr:port and
// returns it (nil on error) with the error and how long connect took.
func egressDial(t *testing.T, nsSock func(int, int, int) (int, error), addr string, port int) (net.Conn, error, time.Duration) {
	t.Helper()
	af, sa := egSockaddr(addr, port)
	fd, err := nsSock(af, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &unix.Timeval{Sec: 3})
	start := time.Now()
	err = unix.Connect(fd, sa)
	d := time.Since(start)
	if err != nil {
		unix.Close(fd)
		return nil, err, d
	}
	f := fileFromFd(fd)
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c, nil, d
}

// egressUDP sends a datagram from a connected namespace socket to
// addr:port and returns the reply or the error of the receive (1 s).
func egressUDP(t *testing.T, nsSock func(int, int, int) (int, error), addr string, port int, msg string) (string, error, time.Duration) {
	t.Helper()
	af, sa := egSockaddr(addr, port)
	fd, err := nsSock(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1})
	if err := unix.Connect(fd, sa); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := unix.Write(fd, []byte(msg)); err != nil {
		return "", err, time.Since(start)
	}
	b := make([]byte, 2048)
	n, _, err := unix.Recvfrom(fd, b, 0)
	if err != nil {
		return "", err, time.Since(start)
	}
	return string(b[:n]), nil, time.Since(start)
}

// TestIntegrationEgressDeny: with a deny rule, from the command line and
// from the TOML file, TCP to the denied prefix is refused at once
// (ECONNREFUSED, the host's server sees nothing), UDP and ping get ICMP
// "administratively prohibited" back (EHOSTUNREACH, "Packet filtered";
// IPv6: EACCES), a DNS query forwarded to a resolver in the denied
// prefix is refused, and the allowed prefix works for all of them, over
// IPv4 and IPv6.
func TestIntegrationEgressDeny(t *testing.T) {
	requireRoot(t)
	host := newEgressHost(t)
	conf := filepath.Join(t.TempDir(), "egress.toml")
	if err := os.WriteFile(conf, []byte("[egress]\ndeny = [\""+egDenyRule+"\", \""+egDenyRule6+"\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// --dns-forward: queries to 169.254.1.53 go to the resolver
	// --dns-host names, which is in the denied prefix; the guest's own
	// destination is not.
	common := []string{"-t", "none", "-u", "none", "-T", "none", "-U", "none",
		"--dns-forward", "169.254.1.53", "--dns-host", egDenied4}
	for _, form := range []struct {
		name string
		args []string
	}{
		{"argv", []string{"--egress-deny", egDenyRule, "--egress-deny", egDenyRule6}},
		{"toml", []string{"--config", conf}},
	} {
		t.Run(form.name, func(t *testing.T) {
			p := startPastaNs(t, host.ns, pastaBin, "gopasst", append(append([]string{}, common...), form.args...)...)
			ns := udpNsSocket(t, p.nsPath())

			_, err, d := egressDial(t, ns, egDenied4, egPort)
			if !errors.Is(err, unix.ECONNREFUSED) || d > 500*time.Millisecond {
				t.Errorf("TCP to the denied prefix: %v after %v, want ECONNREFUSED well under a second", err, d)
			}
			t.Logf("TCP denied: %v after %v", err, d.Round(time.Microsecond))
			select {
			case c := <-host.accepted[egDenied4]:
				c.Close()
				t.Error("the denied server accepted a connection")
			case <-time.After(50 * time.Millisecond):
			}
			c, err, _ := egressDial(t, ns, egAllowed4, egPort)
			if err != nil {
				t.Fatalf("TCP to the allowed prefix: %v", err)
			}
			c.Close()
			(<-host.accepted[egAllowed4]).Close()

			_, err, d = egressUDP(t, ns, egDenied4, egPort, "hello")
			if !errors.Is(err, unix.EHOSTUNREACH) {
				t.Errorf("UDP to the denied prefix: %v after %v, want EHOSTUNREACH (ICMP prohibited)", err, d)
			}
			t.Logf("UDP denied: %v after %v", err, d.Round(time.Microsecond))
			if r, err, _ := egressUDP(t, ns, egAllowed4, egPort, "hello"); err != nil || r != "hello" {
				t.Errorf("UDP to the allowed prefix: %q, %v", r, err)
			}
			_, err, _ = egressUDP(t, ns, "169.254.1.53", 53, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01")
			if !errors.Is(err, unix.EHOSTUNREACH) {
				t.Errorf("DNS forwarded to a denied resolver: %v, want EHOSTUNREACH", err)
			}

			out, err := p.cmd(t.Context(), "ping", "-n", "-c", "1", "-W", "1", egDenied4).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "Packet filtered") {
				t.Errorf("ping to the denied prefix: %v\n%s", err, out)
			}
			if out, err := p.cmd(t.Context(), "ping", "-n", "-c", "1", "-W", "2", egAllowed4).CombinedOutput(); err != nil {
				t.Errorf("ping to the allowed prefix: %v\n%s", err, out)
			}

			// IPv6: RST, ICMPv6 "administratively prohibited" (EACCES).
			if _, err, d := egressDial(t, ns, egDenied6, egPort); !errors.Is(err, unix.ECONNREFUSED) {
				t.Errorf("TCP to the denied IPv6 prefix: %v after %v, want ECONNREFUSED", err, d)
			}
			if c, err, _ := egressDial(t, ns, egAllowed6, egPort); err != nil {
				t.Errorf("TCP to the allowed IPv6 prefix: %v", err)
			} else {
				c.Close()
				(<-host.accepted[egAllowed6]).Close()
			}
			if _, err, d := egressUDP(t, ns, egDenied6, egPort, "hello"); !errors.Is(err, unix.EACCES) {
				t.Errorf("UDP to the denied IPv6 prefix: %v after %v, want EACCES (ICMPv6 prohibited)", err, d)
			}
			if r, err, _ := egressUDP(t, ns, egAllowed6, egPort, "hello"); err != nil || r != "hello" {
				t.Errorf("UDP to the allowed IPv6 prefix: %q, %v", r, err)
			}
		})
	}
}

// TestIntegrationEgressConfigErrors: an unparsable rule or an unknown
// key stops pasta with exit status 1 and one line naming the option, or
// the key and its line.
func TestIntegrationEgressConfigErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(conf, []byte("[egress]\nblock = [\"10.0.0.0/8\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badRule := filepath.Join(dir, "badrule.toml")
	if err := os.WriteFile(badRule, []byte("quiet = true\n[egress]\ndeny = [\"10.0.0.0/8:ssh\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--egress-deny", "10.0.0.0/8:ssh"}, []string{"--egress-deny", `"ssh"`}},
		{[]string{"--egress-allow", "10.0.0.1/8"}, []string{"--egress-allow", "host bits"}},
		{[]string{"--max-flows", "tcp"}, []string{"--max-flows"}},
		{[]string{"--config", conf}, []string{"egress.block", "line 2"}},
		{[]string{"--config", badRule}, []string{"egress.deny", "line 3", `"ssh"`}},
	} {
		_, stderr, status := runPasta(t, nil, nil, append([]string{"-f", "--netns", "/proc/self/ns/net"}, tt.args...)...)
		msg := strings.TrimSpace(string(stderr))
		if status != 1 || strings.Count(msg, "\n") != 0 {
			t.Errorf("%v: status %d, stderr %q; want 1 and one line", tt.args, status, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q lacks %q", tt.args, msg, w)
			}
		}
	}
}

// readAudit reads the audit log, checking that every line is JSON (with
// encoding/json here, and python3's json.loads).
func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		evs = append(evs, m)
	}
	return evs
}

// waitAudit polls the audit log until match finds an event, for up to 3 s.
func waitAudit(t *testing.T, path string, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, ev := range readAudit(t, path) {
			if match(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("no %s event in the audit log:\n%s", what, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIntegrationEgressAuditAndLimits: the audit log has the events of a
// denied and an allowed TCP flow, the close one with the bytes the test
// sent each way, and every line parses; with --max-flows tcp=2 the third
// concurrent connection is refused and logged as "limit", and once one
// closes a new one opens; the stats line counts the denial and the limit.
func TestIntegrationEgressAuditAndLimits(t *testing.T) {
	requireRoot(t)
	host := newEgressHost(t)
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	p := startPastaNs(t, host.ns, pastaBin, "gopasst", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
		"--egress-deny", egDenyRule, "--max-flows", "tcp=2", "--audit-log", auditPath,
		"--stats", "1", "--debug") // --debug undoes startPastaNs's -q: the stats line is info
	ns := udpNsSocket(t, p.nsPath())

	if _, err, _ := egressDial(t, ns, egDenied4, egPort); !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("denied connect: %v", err)
	}
	waitAudit(t, auditPath, "deny", func(ev map[string]any) bool {
		return ev["event"] == "deny" && ev["proto"] == "tcp" && ev["host"] == fmt.Sprintf("%s:%d", egDenied4, egPort) &&
			ev["rule"] == egDenyRule && ev["dir"] == "outbound"
	})

	// An allowed flow: 1000 bytes out, 1500 back, closed by the guest.
	c, err, _ := egressDial(t, ns, egAllowed4, egPort)
	if err != nil {
		t.Fatal(err)
	}
	sc := <-host.accepted[egAllowed4]
	out := strings.Repeat("o", 1000)
	back := strings.Repeat("b", 1500)
	if _, err := io.WriteString(c, out); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(out))
	sc.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(sc, got); err != nil {
		t.Fatal(err)
	}
	io.WriteString(sc, back)
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len(back))); err != nil {
		t.Fatal(err)
	}
	guestEnd := c.LocalAddr().String()
	c.Close()
	sc.Close()
	closeEv := waitAudit(t, auditPath, "close", func(ev map[string]any) bool {
		return ev["event"] == "close" && ev["guest"] == guestEnd
	})
	if closeEv["bytes_from_guest"] != 1000.0 || closeEv["bytes_to_guest"] != 1500.0 || closeEv["rule"] != nil {
		t.Errorf("close event %v, want 1000 bytes from the guest and 1500 to it", closeEv)
	}
	waitAudit(t, auditPath, "open", func(ev map[string]any) bool {
		return ev["event"] == "open" && ev["guest"] == guestEnd && ev["host"] == fmt.Sprintf("%s:%d", egAllowed4, egPort)
	})

	// Limits: two held, the third refused at once, then one closes.
	var held, servers []net.Conn
	for i := range 2 {
		c, err, _ := egressDial(t, ns, egAllowed4, egPort)
		if err != nil {
			t.Fatalf("connection %d of 2: %v", i+1, err)
		}
		s := <-host.accepted[egAllowed4]
		held, servers = append(held, c), append(servers, s)
		defer c.Close()
		defer s.Close()
	}
	if _, err, d := egressDial(t, ns, egAllowed4, egPort); !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("third connection with --max-flows tcp=2: %v after %v, want ECONNREFUSED", err, d)
	}
	waitAudit(t, auditPath, "limit", func(ev map[string]any) bool {
		return ev["event"] == "limit" && ev["rule"] == "max_flows tcp=2"
	})
	held[0].Close()
	servers[0].Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err, _ := egressDial(t, ns, egAllowed4, egPort)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new connection 3 s after one of two closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The stats line counts the denial and the limit.
	deadline = time.Now().Add(3 * time.Second)
	for {
		b, _ := os.ReadFile(p.log)
		lines := strings.Split(string(b), "\n")
		last := ""
		for _, l := range lines {
			if strings.Contains(l, "stats: ") {
				last = l
			}
		}
		// limited_tcp may exceed 1: retries while the closed flow was
		// still going count too.
		if strings.Contains(last, " denied_tcp=1 ") && !strings.Contains(last, " limited_tcp=0 ") && strings.Contains(last, " limited_tcp=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stats line with denied_tcp=1 and limited_tcp>0; last: %s", last)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if out, err := exec.Command("python3", "-c",
		"import json,sys\nfor l in open(sys.argv[1]): json.loads(l)", auditPath).CombinedOutput(); err != nil {
		t.Errorf("python3 json.loads: %v\n%s", err, out)
	}
}

// TestIntegrationEgressSplice: pasta's -T path (the namespace connects to
// its loopback, pasta connects to the host's) is egress too: a connection
// to a denied host port is reset as soon as accepted, one to an allowed
// port is relayed.
func TestIntegrationEgressSplice(t *testing.T) {
	requireRoot(t)
	host := newEgressHost(t)
	const deniedPort, allowedPort = 18080, 18081
	servers := map[int]chan net.Conn{}
	for _, port := range []int{deniedPort, allowedPort} {
		ln := host.listen(t, unix.SOCK_STREAM, "127.0.0.1", port).(net.Listener)
		ch := make(chan net.Conn, 4)
		servers[port] = ch
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				ch <- c
				go io.Copy(c, c)
			}
		}()
	}
	p := startPastaNs(t, host.ns, pastaBin, "gopasst", "-t", "none", "-u", "none", "-U", "none",
		"-T", fmt.Sprintf("%d,%d", deniedPort, allowedPort), "--egress-deny", fmt.Sprintf("tcp:127.0.0.1:%d", deniedPort))
	ns := udpNsSocket(t, p.nsPath())
	waitListening(t, []string{"nsenter", "-t", fmt.Sprint(p.holder), "-n", "--"}, "-ltn", allowedPort, 5*time.Second)

	c, err, _ := egressDial(t, ns, "127.0.0.1", deniedPort)
	if err == nil { // the namespace's kernel accepts; pasta resets it
		c.SetReadDeadline(time.Now().Add(time.Second))
		start := time.Now()
		_, err = c.Read(make([]byte, 1))
		if !errors.Is(err, unix.ECONNRESET) || time.Since(start) > 500*time.Millisecond {
			t.Errorf("spliced connection to a denied port: read %v after %v, want ECONNRESET at once", err, time.Since(start))
		}
		c.Close()
	} else if !errors.Is(err, unix.ECONNRESET) && !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("spliced connect to a denied port: %v", err)
	}
	select {
	case s := <-servers[deniedPort]:
		s.Close()
		t.Error("the denied host port got a connection")
	case <-time.After(50 * time.Millisecond):
	}
	c, err, _ = egressDial(t, ns, "127.0.0.1", allowedPort)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "ping")
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Errorf("spliced connection to an allowed port: %q, %v", b, err)
	}
}

// TestIntegrationEgressFlowRate: with --flow-rate tcp=2/s, a burst of two
// connections passes, the third in the same instant is refused at once
// (as a denied one), and after half a second a new one passes again.
func TestIntegrationEgressFlowRate(t *testing.T) {
	requireRoot(t)
	host := newEgressHost(t)
	go func() {
		for c := range host.accepted[egAllowed4] {
			c.Close()
		}
	}()
	p := startPastaNs(t, host.ns, pastaBin, "gopasst", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
		"--flow-rate", "tcp=2/s")
	ns := udpNsSocket(t, p.nsPath())
	start := time.Now()
	for i := range 2 {
		c, err, _ := egressDial(t, ns, egAllowed4, egPort)
		if err != nil {
			t.Fatalf("connection %d of the burst: %v", i+1, err)
		}
		c.Close()
	}
	_, err, d := egressDial(t, ns, egAllowed4, egPort)
	if time.Since(start) < 400*time.Millisecond && !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("third connection within %v with --flow-rate tcp=2/s: %v, want ECONNREFUSED", time.Since(start), err)
	}
	t.Logf("third connection: %v after %v", err, d)
	time.Sleep(600 * time.Millisecond)
	c, err, _ := egressDial(t, ns, egAllowed4, egPort)
	if err != nil {
		t.Fatalf("a connection 600 ms later: %v", err)
	}
	c.Close()
}
