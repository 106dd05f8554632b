// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// Helpers for the passt-mode tests: start the binary, speak qemu's stream
// framing from Go, build DHCP requests, read the stats line from the log.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// The guest configuration the socket-level tests give passt.
var (
	ptAddr4 = netip.MustParseAddr("10.0.2.15")
	ptGw4   = netip.MustParseAddr("10.0.2.2")
	ptDNS4  = netip.MustParseAddr("10.0.2.3")
	ptMAC   = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
)

const ptHostname = "gptest"

// ptArgs are the addressing options matching the values above.
func ptArgs() []string {
	return []string{"-a", "10.0.2.15/24", "-g", "10.0.2.2", "-D", "10.0.2.3",
		"-H", ptHostname, "-m", "1500"}
}

// passtProc is a running passt, killed by PID on cleanup.
type passtProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	log    string // -l file
	sock   string
	done   chan struct{}
	err    error // Wait's result, once done is closed
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of os/exec.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startPasst runs passtBin with args plus "-l LOG" and waits until sock
// (if not empty) accepts connections.
func startPasst(t *testing.T, sock string, extra []*os.File, args ...string) *passtProc {
	t.Helper()
	return startPasstArgv(t, sock, extra, append([]string{passtBin}, args...))
}

// startPasstArgv is startPasst with the whole command line, e.g. behind
// "ip netns exec NS" (which execs passt: the PID stays passt's).
func startPasstArgv(t *testing.T, sock string, extra []*os.File, argv []string) *passtProc {
	t.Helper()
	requireRoot(t)
	p := &passtProc{stderr: &syncBuffer{}, sock: sock, done: make(chan struct{}),
		log: filepath.Join(t.TempDir(), "passt.log")}
	argv = append(argv, "-l", p.log)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	p.cmd.ExtraFiles = extra
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := p.cmd.Process.Pid
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			syscall.Kill(pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("passt stderr:\n%s\npasst log:\n%s", p.stderr.String(), p.logText())
		}
	})
	if sock != "" {
		// The hint is printed once the socket listens. (Probing with a
		// connection would start a guest, and end a one-off passt.)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(p.stderr.String(), "bound at "+sock) {
			if time.Now().After(deadline) || p.exited() {
				t.Fatalf("passt socket %s not ready; stderr:\n%s", sock, p.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return p
}

func (p *passtProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for passt to exit and returns its exit status (-1:
// still running, or killed by a signal).
func (p *passtProc) wait(d time.Duration) int {
	select {
	case <-p.done:
	case <-time.After(d):
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *passtProc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitLog waits until the log holds at least n lines containing s.
func (p *passtProc) waitLog(t *testing.T, s string, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for bytes.Count([]byte(p.logText()), []byte(s)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has not %d × %q after %v:\n%s", n, s, d, p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var statsRe = regexp.MustCompile(`stats: [^"]*`)

// lastStats returns the counters of the last stats line in the log.
func (p *passtProc) lastStats(t *testing.T) map[string]uint64 {
	t.Helper()
	all := statsRe.FindAllString(p.logText(), -1)
	if len(all) == 0 {
		t.Fatalf("no stats line in the log:\n%s", p.logText())
	}
	return parseStats(all[len(all)-1])
}

// parseStats returns the fields of a stats line (engine.Stats.Line) by
// name; every name on the line is unique.
func parseStats(line string) map[string]uint64 {
	m := map[string]uint64{}
	for _, kv := range regexp.MustCompile(`(\w+)=(\d+)`).FindAllStringSubmatch(line, -1) {
		v, _ := strconv.ParseUint(kv[2], 10, 64)
		m[kv[1]] = v
	}
	return m
}

// qemuConn is the qemu side of the stream: frames out with a 4-byte
// big-endian length, frames in through a reader goroutine.
type qemuConn struct {
	c      net.Conn
	frames chan []byte
	eof    chan error // the reader's end: io.EOF when passt closed
}

func dialQemu(t *testing.T, sock string) *qemuConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	return newQemuConn(t, c)
}

func newQemuConn(t *testing.T, c net.Conn) *qemuConn {
	q := &qemuConn{c: c, frames: make(chan []byte, 4096), eof: make(chan error, 1)}
	t.Cleanup(func() { c.Close() })
	go func() {
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				q.eof <- err
				close(q.frames)
				return
			}
			f := make([]byte, binary.BigEndian.Uint32(hdr[:]))
			if _, err := io.ReadFull(c, f); err != nil {
				q.eof <- err
				close(q.frames)
				return
			}
			select {
			case q.frames <- f:
			default: // nobody reads: drop rather than block passt
			}
		}
	}()
	return q
}

// frame prefixes f with its length.
func qemuFrame(f []byte) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(f)), uint32(len(f)))
	return append(b, f...)
}

func (q *qemuConn) send(t *testing.T, f []byte) {
	t.Helper()
	q.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := q.c.Write(qemuFrame(f)); err != nil {
		t.Fatalf("write to passt: %v", err)
	}
}

// expect returns the first frame for which match is true, within d.
func (q *qemuConn) expect(t *testing.T, d time.Duration, what string, match func(*l2.Frame) bool) *l2.Frame {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case b, ok := <-q.frames:
			if !ok {
				t.Fatalf("waiting for %s: connection closed", what)
			}
			var f l2.Frame
			if f.Parse(b) == nil && match(&f) {
				return &f
			}
		case <-timer.C:
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// expectClosed waits for passt to close the connection.
func (q *qemuConn) expectClosed(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-q.eof:
		if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("connection ended with %v, want EOF", err)
		}
	case <-time.After(d):
		t.Fatalf("passt did not close the connection within %v", d)
	}
}

// arpRequest asks for the gateway's MAC from the guest's address.
func arpRequest() []byte {
	return l2test.ARPRequest(ptMAC, ptAddr4, ptGw4, l2test.WithSrcMAC(ptMAC))
}

// isARPReply matches passt's answer to arpRequest.
func isARPReply(f *l2.Frame) bool {
	if f.EtherType != l2.EtherTypeARP {
		return false
	}
	a := f.ARP()
	return a.Op() == 2 && a.SenderIP() == ptGw4 && a.TargetIP() == ptAddr4 && a.TargetHW() == ptMAC
}

// DHCP message types and options used here (RFC 2131, 2132).
const (
	dhcpDiscover = 1
	dhcpOffer    = 2
	dhcpMagic    = 0x63825363
)

// dhcpDiscover builds a DHCPDISCOVER from ptMAC, broadcast, asking for
// mask, router, DNS, hostname and MTU.
func dhcpDiscoverFrame(xid uint32) []byte {
	m := make([]byte, 240)
	m[0], m[1], m[2] = 1, 1, 6 // BOOTREQUEST, Ethernet, hlen
	binary.BigEndian.PutUint32(m[4:], xid)
	binary.BigEndian.PutUint16(m[10:], 0x8000) // broadcast flag
	copy(m[28:], ptMAC[:])
	binary.BigEndian.PutUint32(m[236:], dhcpMagic)
	m = append(m, 53, 1, dhcpDiscover)
	m = append(m, 55, 5, 1, 3, 6, 12, 26)
	m = append(m, 255)
	return l2test.UDP4(netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), 67), m,
		l2test.WithSrcMAC(ptMAC), l2test.WithDstMAC(guestBroadcast))
}

var guestBroadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// dhcpReply is a parsed BOOTREPLY: yiaddr and the options.
type dhcpReply struct {
	xid    uint32
	yiaddr netip.Addr
	opts   map[byte][]byte
}

// parseDHCPReply returns the DHCP message in f, if f is UDP 67 → 68.
func parseDHCPReply(f *l2.Frame) (dhcpReply, bool) {
	if f.EtherType != l2.EtherTypeIPv4 || f.L4Proto != 17 {
		return dhcpReply{}, false
	}
	u := f.UDP()
	if u.SourcePort() != 67 || u.DestinationPort() != 68 {
		return dhcpReply{}, false
	}
	m := f.PayloadBytes()
	if len(m) < 240 || m[0] != 2 || binary.BigEndian.Uint32(m[236:]) != dhcpMagic {
		return dhcpReply{}, false
	}
	r := dhcpReply{xid: binary.BigEndian.Uint32(m[4:]),
		yiaddr: netip.AddrFrom4([4]byte(m[16:20])), opts: map[byte][]byte{}}
	for o := m[240:]; len(o) > 0; {
		switch {
		case o[0] == 0:
			o = o[1:]
			continue
		case o[0] == 255 || len(o) < 2 || len(o) < 2+int(o[1]):
			return r, true
		}
		r.opts[o[0]] = o[2 : 2+int(o[1])]
		o = o[2+int(o[1]):]
	}
	return r, true
}
