// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// passt mode at the socket level, without a VM: the test is qemu, speaking
// the stream framing from Go. Fast (a few seconds in all).

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

func ptSock(t *testing.T) string {
	dir := t.TempDir()
	// Sticky and world-writable like /tmp: passt started as root runs as
	// nobody and removes its socket at exit as its owner.
	os.Chmod(dir, 0o1777)
	return filepath.Join(dir, "passt.sock")
}

// TestIntegrationPasstDHCPARP: a DHCPDISCOVER gets an OFFER with the
// configured values; an ARP request for the gateway is answered.
func TestIntegrationPasstDHCPARP(t *testing.T) {
	sock := ptSock(t)
	p := startPasst(t, sock, nil, append([]string{"-f", "-1", "-s", sock}, ptArgs()...)...)
	q := dialQemu(t, sock)

	q.send(t, dhcpDiscoverFrame(0x1234abcd))
	var offer dhcpReply
	q.expect(t, 5*time.Second, "DHCPOFFER", func(f *l2.Frame) bool {
		r, ok := parseDHCPReply(f)
		if ok && r.xid == 0x1234abcd {
			offer = r
		}
		return ok && r.xid == 0x1234abcd
	})
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"yiaddr", offer.yiaddr, ptAddr4},
		{"message type", offer.opts[53], []byte{dhcpOffer}},
		{"subnet mask", offer.opts[1], []byte{255, 255, 255, 0}},
		{"router", offer.opts[3], ptGw4.AsSlice()},
		{"dns", offer.opts[6], ptDNS4.AsSlice()},
		{"hostname", string(offer.opts[12]), ptHostname},
		{"mtu", offer.opts[26], []byte{1500 >> 8, 1500 & 0xff}},
		{"server id", offer.opts[54], ptGw4.AsSlice()},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !equalish(c.got, c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}

	q.send(t, arpRequest())
	f := q.expect(t, 5*time.Second, "ARP reply", isARPReply)
	if hw := f.ARP().SenderHW(); hw != l2test.OurMAC {
		t.Errorf("ARP reply says the gateway is at %x, want %x", hw, l2test.OurMAC)
	}
	q.c.Close()
	if st := p.wait(10 * time.Second); st != 0 {
		t.Fatalf("one-off passt: exit status %d after the guest left, want 0", st)
	}
}

func equalish(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	default:
		return a == b
	}
}

// ptAdversarial builds adversarial frame i. Every one of them must be
// dropped (and counted) by the engine: none is a valid request.
func ptAdversarial(r *rand.Rand, i int) []byte {
	random := func(n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return b
	}
	setType := func(b []byte, et uint16) []byte {
		binary.BigEndian.PutUint16(b[12:], et)
		return b
	}
	if i%500 == 0 { // longer than the MTU, up to the stream's maximum
		return setType(random(65520+r.IntN(16)), 0x88b5)
	}
	src := netip.AddrPortFrom(ptAddr4, 40000)
	dst := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 9)
	switch i % 8 {
	case 0: // shorter than an Ethernet header
		return random(1 + r.IntN(13))
	case 1: // garbage with an EtherType nobody handles
		et := uint16(0x9000 + r.IntN(0x100)) // not IP, ARP or a VLAN tag
		return setType(random(14+r.IntN(1500)), et)
	case 2: // truncated IPv4 header
		return setType(random(14+1+r.IntN(19)), l2.EtherTypeIPv4)
	case 3: // truncated IPv6 header
		return setType(random(14+1+r.IntN(39)), l2.EtherTypeIPv6)
	case 4: // IPv4 with a wrong header checksum
		return l2test.UDP4(src, dst, random(r.IntN(200)), l2test.WithBadIPChecksum(), l2test.WithSrcMAC(ptMAC))
	case 5: // random IPv4 header bytes, wrong checksum whatever they say
		b := setType(random(14+20+r.IntN(100)), l2.EtherTypeIPv4)
		ip := l2.IPv4(b[14:])
		b[14] = 0x45
		ip.SetChecksum(0)
		ip.SetChecksum(^ip.CalculateChecksum())
		return b
	case 6: // IPv4 fragment
		b := l2test.UDP4(src, dst, random(8+r.IntN(200)), l2test.WithSrcMAC(ptMAC))
		ip := l2.IPv4(b[14:])
		ip.SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, 0)
		ip.SetChecksum(0)
		ip.SetChecksum(ip.CalculateChecksum())
		return b
	default: // ARP with a bad hardware length
		b := arpRequest()
		b[14+4] = byte(7 + r.IntN(200))
		return b
	}
}

// TestIntegrationPasstAdversarial writes 10,000 adversarial frames, cut
// into writes at random boundaries so that frames straddle reads, with a
// valid ARP request after every 100: passt survives, answers every
// request, and its counters account for every injected frame (dropped,
// or held as a fragment of a datagram that never completes).
func TestIntegrationPasstAdversarial(t *testing.T) {
	sock := ptSock(t)
	p := startPasst(t, sock, nil, append([]string{"-f", "-1", "--stats", "1", "-s", sock}, ptArgs()...)...)
	q := dialQemu(t, sock)
	r := rand.New(rand.NewPCG(1, 2))

	const total, every = 10000, 100
	var stream []byte
	requests := 0
	for i := range total {
		stream = append(stream, qemuFrame(ptAdversarial(r, i))...)
		if i%every == every-1 {
			stream = append(stream, qemuFrame(arpRequest())...)
			requests++
		}
	}
	start := time.Now()
	replies := make(chan int, 1)
	go func() { // count the replies while writing
		n := 0
		deadline := time.After(60 * time.Second)
		for n < requests {
			select {
			case b, ok := <-q.frames:
				if !ok {
					replies <- n
					return
				}
				var f l2.Frame
				if f.Parse(b) == nil && isARPReply(&f) {
					n++
				}
			case <-deadline:
				replies <- n
				return
			}
		}
		replies <- n
	}()
	for len(stream) > 0 {
		n := min(len(stream), 1+r.IntN(70000))
		q.c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := q.c.Write(stream[:n]); err != nil {
			t.Fatalf("write: %v (%d bytes left)", err, len(stream))
		}
		stream = stream[n:]
	}
	if got := <-replies; got != requests {
		t.Fatalf("%d ARP replies to %d requests", got, requests)
	}
	t.Logf("%d frames and %d requests in %v", total, requests, time.Since(start))
	q.c.Close()
	if st := p.wait(10 * time.Second); st != 0 {
		t.Fatalf("exit status %d, want 0", st)
	}
	s := p.lastStats(t)
	// Every adversarial frame is dropped, except the fragments the
	// reassembler holds for a datagram that never completes (frags_held):
	// each frame is counted exactly once, in one or the other.
	if s["dropped"]+s["frags_held"] != total {
		t.Errorf("dropped=%d + frags_held=%d, want %d", s["dropped"], s["frags_held"], total)
	}
	if s["arp"] != uint64(requests) {
		t.Errorf("arp=%d, want %d", s["arp"], requests)
	}
	if s["frames_in"] != uint64(total+requests) {
		t.Errorf("frames_in=%d, want %d", s["frames_in"], total+requests)
	}
	t.Log(statsRe.FindAllString(p.logText(), -1)[len(statsRe.FindAllString(p.logText(), -1))-1])
}

// TestIntegrationPasstReconnect: without --one-off, passt serves one guest
// after the other; a framing error (length 0, length above 65535) closes
// that guest's connection with a logged reason, and the next guest starts
// clean. SIGTERM ends passt with status 0 and removes the socket.
func TestIntegrationPasstReconnect(t *testing.T) {
	sock := ptSock(t)
	p := startPasst(t, sock, nil, append([]string{"-f", "-s", sock}, ptArgs()...)...)

	bad := []struct {
		name   string
		length uint32
		reason string
	}{
		{"zero length", 0, "zero length"},
		{"length above 65535", 70000, "longer than the limit"},
	}
	for i, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			q := dialQemu(t, sock)
			q.send(t, arpRequest())
			q.expect(t, 5*time.Second, "ARP reply", isARPReply)
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], b.length)
			q.c.Write(append(hdr[:], make([]byte, 64)...))
			q.expectClosed(t, 5*time.Second)
			p.waitLog(t, "closing the guest connection", i+1, 5*time.Second)
			if !strings.Contains(p.logText(), b.reason) {
				t.Errorf("log does not give the reason %q:\n%s", b.reason, p.logText())
			}
		})
	}
	t.Run("next guest", func(t *testing.T) {
		q := dialQemu(t, sock)
		q.send(t, dhcpDiscoverFrame(7))
		q.expect(t, 5*time.Second, "DHCPOFFER", func(f *l2.Frame) bool {
			r, ok := parseDHCPReply(f)
			return ok && r.xid == 7 && r.yiaddr == ptAddr4
		})
		q.send(t, arpRequest())
		q.expect(t, 5*time.Second, "ARP reply", isARPReply)
		q.c.Close()
		p.waitLog(t, "guest disconnected", 1, 5*time.Second)
	})
	if p.exited() {
		t.Fatal("passt exited between guests")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if st := p.wait(10 * time.Second); st != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", st)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("socket file left behind")
	}
}

// TestIntegrationPasstFd: -F with one end of a socketpair, as qemu's
// "-netdev passt" does; it implies --one-off.
func TestIntegrationPasstFd(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	theirs := os.NewFile(uintptr(fds[1]), "passt-end")
	ours := os.NewFile(uintptr(fds[0]), "qemu-end")
	p := startPasst(t, "", []*os.File{theirs}, append([]string{"-f", "-F", "3"}, ptArgs()...)...)
	theirs.Close()
	c, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		t.Fatal(err)
	}
	q := newQemuConn(t, c)
	q.send(t, arpRequest())
	q.expect(t, 5*time.Second, "ARP reply", isARPReply)
	q.c.Close()
	if st := p.wait(10 * time.Second); st != 0 {
		t.Fatalf("exit status %d, want 0", st)
	}
	p.waitLog(t, "guest disconnected", 1, time.Second)
}

// TestIntegrationPasstDaemon: without -f, passt returns 0 once ready,
// --pid names the daemon, which serves guests and ends on SIGTERM.
func TestIntegrationPasstDaemon(t *testing.T) {
	requireRoot(t)
	sock := ptSock(t)
	pidFile := filepath.Join(t.TempDir(), "passt.pid")
	logFile := filepath.Join(t.TempDir(), "passt.log")
	args := append([]string{"-s", sock, "--pid", pidFile, "-l", logFile}, ptArgs()...)
	cmd := exec.Command(passtBin, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("passt: %v\n%s", err, out)
	}
	pid := readPidFile(t, pidFile)
	t.Logf("daemon ready in %v, PID %d", time.Since(start), pid)
	if pid == cmd.Process.Pid || exited(pid) {
		t.Fatalf("PID file names %d, not a running daemon", pid)
	}
	if !strings.Contains(string(out), "addr.path="+sock) {
		t.Errorf("no qemu command line in the output:\n%s", out)
	}
	for i := range 2 {
		q := dialQemu(t, sock)
		q.send(t, arpRequest())
		q.expect(t, 5*time.Second, "ARP reply", isARPReply)
		q.c.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(logFile)
			if strings.Count(string(b), "guest disconnected") > i || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if !waitExited(pid, 10*time.Second) {
		t.Fatal("daemon still running 10 s after SIGTERM")
	}
}

// TestIntegrationPasstDefaultSocket: without -s, passt binds the first
// free /tmp/passt_N.socket and prints the matching qemu command line.
func TestIntegrationPasstDefaultSocket(t *testing.T) {
	p := startPasst(t, "", nil, append([]string{"-f", "-1"}, ptArgs()...)...)
	re := regexp.MustCompile(`UNIX domain socket bound at (/tmp/passt_(\d+)\.socket)`)
	var m []string
	deadline := time.Now().Add(10 * time.Second)
	for m = re.FindStringSubmatch(p.stderr.String()); m == nil; m = re.FindStringSubmatch(p.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no socket path printed:\n%s", p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	path := m[1]
	if n, _ := strconv.Atoi(m[2]); n < 1 || n > 64 {
		t.Fatalf("socket number %d", n)
	}
	want := "-netdev stream,id=s,server=off,addr.type=unix,addr.path=" + path + " -device virtio-net-pci,netdev=s"
	if !strings.Contains(p.stderr.String(), want) {
		t.Errorf("qemu line missing %q:\n%s", want, p.stderr.String())
	}
	q := dialQemu(t, path)
	q.send(t, arpRequest())
	q.expect(t, 5*time.Second, "ARP reply", isARPReply)
	q.c.Close()
	if st := p.wait(10 * time.Second); st != 0 {
		t.Fatalf("exit status %d, want 0", st)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s left behind", path)
	}
}

// TestIntegrationPasstBadOptions: getopt-style errors, status 1.
func TestIntegrationPasstBadOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown", []string{"--xyz"}, "passt: unrecognized option '--xyz'\n"},
		{"unsupported", []string{"-c", "/tmp/ctl"}, "passt: -c/--conf-path in passt mode: not yet supported\n"},
		{"migration", []string{"--vhost-user", "--repair-path", "/tmp/r", "--migrate-exit"},
			"passt: --repair-path (live migration), --migrate-exit (live migration): not yet supported\n"},
		{"migration without vhost-user", []string{"--migrate-no-linger"},
			"passt: --migrate-exit and --migrate-no-linger are for vhost-user mode only\n"},
		{"pasta only", []string{"--netns", "x"}, "passt:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(passtBin, tc.args...).CombinedOutput()
			ee, ok := err.(interface{ ExitCode() int })
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) || strings.Count(string(out), "\n") != 1 {
				t.Errorf("output %q, want one line with %q", out, tc.want)
			}
		})
	}
	out, err := exec.Command(passtBin, "--version").CombinedOutput()
	if err != nil {
		t.Errorf("--version: %v\n%s", err, out)
	}
}
