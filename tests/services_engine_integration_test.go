// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// End-to-end checks of the engine's L2 services against a real kernel: the
// engine runs in the test process on the fd of a tap device that lives in a
// namespace the test creates, and the namespace's own tools (busybox
// udhcpc, the kernel's SLAAC, iputils ping, tcpdump) are the guest.

import (
	"context"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/engine"
	"gopasst/guest"
	"gopasst/pcap"
	"gopasst/proto/icmp"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
	"gopasst/proto/linksvc"
	"gopasst/tap"
	"gopasst/tap/taptest"
)

const svcTap = "tap0"

var (
	svcAddr4 = netip.MustParseAddr("10.0.2.15")
	svcGw4   = netip.MustParseAddr("10.0.2.2")
	svcDNS4  = netip.MustParseAddr("10.0.2.3")
	svcAddr6 = netip.MustParseAddr("2001:db8:1::15")
	svcLL6   = netip.MustParseAddr("fe80::1")
)

// svcEnv is an engine serving a tap device in a fresh namespace.
type svcEnv struct {
	t      *testing.T
	ns     *taptest.Netns
	n      *guest.Net
	e      *engine.Engine
	pcap   string // capture file
	cancel context.CancelFunc
	done   chan error
	ended  bool
}

func svcNet() *guest.Net {
	return &guest.Net{
		MTU:      65520,
		OurMAC:   guest.DefaultOurMAC,
		GuestMAC: guest.BroadcastMAC,
		V4: guest.Family{Addr: svcAddr4, PrefixLen: 24, Gateway: svcGw4,
			DNS: []netip.Addr{svcDNS4}, MapHostLo: svcGw4},
		V6:     guest.Family{Addr: svcAddr6, PrefixLen: 64, Gateway: svcLL6},
		OurLL6: svcLL6,
	}
}

// svcStart creates the namespace and tap, and runs an engine with the ICMP
// handler and a pcap capture on it.
func svcStart(t *testing.T) *svcEnv {
	t.Helper()
	requireRoot(t)
	ns := taptest.NewNetns(t)
	fd := taptest.OpenTap(t, ns, svcTap)
	dev := tap.NewTun(fd)
	path := filepath.Join(t.TempDir(), "tap.pcap")
	pw, err := pcap.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n := svcNet()
	e, err := engine.New(engine.Config{Net: n, Device: dev, Pcap: pw})
	if err != nil {
		t.Fatal(err)
	}
	links, err := linksvc.New(n, e.Tap())
	if err != nil {
		t.Fatal(err)
	}
	ih, err := icmp.New(icmp.Config{Net: n, Poller: e.Poller(), Tap: e.Tap(), Capacity: 64})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range append(links, ih) {
		if err := e.Add(h); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &svcEnv{t: t, ns: ns, n: n, e: e, pcap: path, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- e.Run(ctx) }()
	t.Cleanup(func() {
		s.stop()
		ih.Close()
		e.Close()
		dev.Close()
		pw.Close()
	})
	return s
}

// stop ends Run and checks that it ended cleanly.
func (s *svcEnv) stop() {
	s.t.Helper()
	if s.ended {
		return
	}
	s.ended = true
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("engine Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		s.t.Error("engine Run did not return")
	}
}

// alive fails the test if Run has returned.
func (s *svcEnv) alive() {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.ended = true
		s.t.Fatalf("engine stopped: %v", err)
	default:
	}
}

func TestIntegrationServicesDHCP(t *testing.T) {
	s := svcStart(t)
	s.ns.MustRun("ip", "link", "set", svcTap, "up")
	script := filepath.Join(t.TempDir(), "udhcpc.sh")
	err := os.WriteFile(script, []byte("#!/bin/sh\n"+
		"[ \"$1\" = bound ] && echo \"LEASE ip=$ip mask=$mask router=$router dns=$dns mtu=$mtu serverid=$serverid\"\n"+
		"exit 0\n"), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := s.ns.Command(ctx, "busybox", "udhcpc", "-i", svcTap, "-n", "-q", "-f",
		"-t", "5", "-T", "1", "-O", "mtu", "-s", script).CombinedOutput()
	if err != nil {
		s.stop()
		dump, _ := exec.Command("tcpdump", "-n", "-vv", "-r", s.pcap).CombinedOutput()
		t.Fatalf("udhcpc: %v\n%s\n%s\ncapture:\n%s", err, out, s.e.Stats().Line(), dump)
	}
	m := regexp.MustCompile(`LEASE (.*)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no lease in udhcpc output:\n%s", out)
	}
	got := m[1]
	want := "ip=10.0.2.15 mask=24 router=10.0.2.2 dns=10.0.2.3 mtu=65520 serverid=10.0.2.2"
	if got != want {
		t.Fatalf("lease:\n got %s\nwant %s", got, want)
	}
	st := s.e.Stats()
	if st.Service[engine.SvcDHCP] < 2 { // OFFER and ACK
		t.Fatalf("dhcp replies: %s", st.Line())
	}
	t.Log(st.Line())
}

func TestIntegrationServicesSLAAC(t *testing.T) {
	s := svcStart(t)
	s.ns.MustRun("ip", "link", "set", svcTap, "up")
	// The kernel solicits a router once its link-local address is
	// through DAD; the RA's prefix gives it a SLAAC address.
	deadline := time.Now().Add(15 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = s.ns.MustRun("ip", "-6", "addr", "show", "dev", svcTap, "scope", "global")
		if strings.Contains(out, "inet6 2001:db8:1:0:") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "inet6 2001:db8:1:0:") {
		t.Fatalf("no SLAAC address on %s after 15 s:\n%s\n%s", svcTap, out, s.e.Stats().Line())
	}
	routes := s.ns.MustRun("ip", "-6", "route", "show", "default")
	if !strings.Contains(routes, "via fe80::1 dev "+svcTap) {
		t.Fatalf("no default route via fe80::1:\n%s", routes)
	}
	st := s.e.Stats()
	if st.Service[engine.SvcNDP] == 0 {
		t.Fatalf("no RA sent in answer to an RS: %s", st.Line())
	}
	t.Log(st.Line())
}

// svcPingGroups lets every group open ping sockets in the host namespace,
// where the engine's ICMP handler opens them, for the duration of the test.
func svcPingGroups(t *testing.T) {
	const path = "/proc/sys/net/ipv4/ping_group_range"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("0 2147483647"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(path, old, 0o644) })
}

// svcGuestV4 gives the namespace the guest's address and default route, as
// a DHCP client would.
func svcGuestV4(s *svcEnv) {
	s.ns.MustRun("sysctl", "-qw", "net.ipv6.conf."+svcTap+".disable_ipv6=1")
	s.ns.MustRun("ip", "addr", "add", svcAddr4.String()+"/24", "dev", svcTap)
	s.ns.MustRun("ip", "link", "set", svcTap, "up")
	s.ns.MustRun("ip", "route", "add", "default", "via", svcGw4.String())
}

var svcReceived = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

// svcPing pings the gateway (mapped to the host's loopback) count times and
// returns how many replies came back.
func svcPing(t *testing.T, s *svcEnv, count int, interval string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := s.ns.Command(ctx, "ping", "-n", "-c", strconv.Itoa(count), "-i", interval, "-W", "1", svcGw4.String()).CombinedOutput()
	m := svcReceived.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	t.Logf("ping:\n%s", out)
	n, _ := strconv.Atoi(m[2])
	return n
}

func TestIntegrationServicesPingPcap(t *testing.T) {
	svcPingGroups(t)
	s := svcStart(t)
	svcGuestV4(s)
	if got := svcPing(t, s, 3, "0.2"); got != 3 {
		t.Fatalf("%d of 3 echo replies; %s", got, s.e.Stats().Line())
	}
	st := s.e.Stats()
	if st.Service[engine.SvcICMP] < 3 || st.Service[engine.SvcARP] == 0 {
		t.Fatalf("stats: %s", st.Line())
	}
	s.stop() // flushes; the capture is complete

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tcpdump", "-n", "-r", s.pcap, "icmp").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, out)
	}
	req := strings.Count(string(out), "10.0.2.15 > 10.0.2.2: ICMP echo request")
	rep := strings.Count(string(out), "10.0.2.2 > 10.0.2.15: ICMP echo reply")
	if req != 3 || rep != 3 {
		t.Fatalf("capture has %d echo requests and %d replies, want 3 and 3:\n%s", req, rep, out)
	}
}

// svcMalformed builds malformed frame i and names the counter that must
// count it. None of these reasons is hit by the kernel's own traffic.
func svcMalformed(i int) ([]byte, engine.DropReason) {
	src := netip.AddrPortFrom(svcAddr4, 40000)
	dst := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 9)
	b := l2test.UDP4(src, dst, []byte("malformed"), l2test.WithSrcMAC([6]byte{0x52, 0x54, 0, 0, 0, 1}))
	ip := l2.IPv4(b[l2.EthernetSize:])
	switch i % 7 {
	case 0:
		return b[:l2.EthernetSize+6], engine.DropTruncated
	case 1:
		binary.BigEndian.PutUint16(b[12:], 0x88b5)
		return b, engine.DropEtherType
	case 2:
		b[l2.EthernetSize] = 0x43 // IHL 3
		return b, engine.DropBadL3
	case 3:
		binary.BigEndian.PutUint16(b[l2.EthernetSize+l2.IPv4MinSize+4:], 4) // UDP length 4
		return b, engine.DropBadL4
	case 4:
		ip.SetChecksum(^ip.CalculateChecksum())
		return b, engine.DropBadChecksum
	case 5:
		ip.SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, 0)
		ip.SetChecksum(ip.CalculateChecksum())
		return b, engine.DropFragment
	default:
		ip.SetProtocol(132) // SCTP
		ip.SetChecksum(ip.CalculateChecksum())
		return b, engine.DropProto
	}
}

// TestIntegrationServicesMalformed injects 1,000 malformed frames into the
// tap from inside the namespace while ping runs: the engine survives, no
// echo reply is lost, and the drop counters grow by exactly what was
// injected.
func TestIntegrationServicesMalformed(t *testing.T) {
	svcPingGroups(t)
	s := svcStart(t)
	svcGuestV4(s)
	pkt := taptest.PacketSocket(t, s.ns, svcTap)
	if got := svcPing(t, s, 1, "0.2"); got != 1 { // ARP resolved, flow open
		t.Fatalf("warm-up ping failed; %s", s.e.Stats().Line())
	}
	before := s.e.Stats()

	const total, count = 1000, 20
	var want [engine.NumDropReasons]uint64
	injected := make(chan error, 1)
	go func() {
		for i := range total {
			f, r := svcMalformed(i)
			want[r]++
			if _, err := unix.Write(pkt, f); err != nil {
				injected <- err
				return
			}
			if i%50 == 49 {
				time.Sleep(100 * time.Millisecond) // spread over the pings
			}
		}
		injected <- nil
	}()
	got := svcPing(t, s, count, "0.2")
	if err := <-injected; err != nil {
		t.Fatalf("inject: %v", err)
	}
	s.alive()
	if got != count {
		t.Fatalf("%d of %d echo replies; %s", got, count, s.e.Stats().Line())
	}
	var after engine.Stats
	deadline := time.Now().Add(5 * time.Second)
	for {
		after = s.e.Stats()
		var sum uint64
		for r := range want {
			sum += after.Drops[r] - before.Drops[r]
		}
		if sum >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for r := range want {
		if d := after.Drops[r] - before.Drops[r]; d != want[r] {
			t.Errorf("%s grew by %d, want %d", engine.DropReason(r), d, want[r])
		}
	}
	// The stats line, as a reader of the log sees it.
	m := regexp.MustCompile(`dropped=(\d+)`).FindStringSubmatch(after.Line())
	if m == nil || svcAtou(m[1]) != after.Dropped || after.Dropped-before.Dropped < total {
		t.Errorf("stats line: %s", after.Line())
	}
	t.Log(after.Line())
}

func svcAtou(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
