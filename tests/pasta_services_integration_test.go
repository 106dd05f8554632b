// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Addresses of the fake host used by the tests below: a namespace with a
// veth "uplink" carrying an IPv4 and an IPv6 address and default routes, so
// that what pasta copies is known.
const (
	svcHostAddr4 = "10.77.2.5"
	svcHostGw4   = "10.77.2.1"
	svcHostAddr6 = "fd77::5"
	svcHostGw6   = "fd77::1"
	svcUplink    = "uplink0"
)

// fakeDualStackHost creates the fake host namespace and returns the prefix
// that runs a command in it. Ping sockets are allowed there for every
// group (pasta's ICMP handler opens them in the host's namespace).
func fakeDualStackHost(t *testing.T, name string) []string {
	t.Helper()
	ns := fakeHostNetns(t, name, svcUplink, svcHostAddr4, svcHostGw4, svcHostAddr6, svcHostGw6)
	return []string{"ip", "netns", "exec", ns}
}

// TestIntegrationPastaDHCPSameLease: without --config-net, a DHCP client in
// the namespace (busybox udhcpc) gets the lease that --config-net would
// have set (the host's address, prefix and gateway), and the RA answering
// its router solicitation brings a SLAAC address in the host's IPv6 prefix.
func TestIntegrationPastaDHCPSameLease(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("busybox (busybox-static) not installed")
	}
	prefix := fakeDualStackHost(t, "gpdhcphost")
	dir := t.TempDir()
	script := filepath.Join(dir, "lease.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = bound ] && echo \"LEASE ip=$ip mask=$mask router=$router mtu=$mtu\"\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	inNs := `set -e
busybox udhcpc -i ` + svcUplink + ` -n -q -f -t 5 -T 1 -O mtu -s ` + script + `
i=0
while [ $i -lt 50 ]; do
	a=$(ip -6 -o addr show dev ` + svcUplink + ` scope global | awk '{print $4; exit}')
	[ -n "$a" ] && { echo "SLAAC $a"; break; }
	sleep 0.1; i=$((i+1))
done
ip -6 route show default
`
	out, errOut, st := runPasta(t, nil, prefix, "--", "sh", "-c", inNs)
	if st != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", st, out, errOut)
	}
	lease := regexp.MustCompile(`LEASE ip=(\S+) mask=(\S+) router=(\S+) mtu=(\S*)`).FindStringSubmatch(string(out))
	if lease == nil {
		t.Fatalf("no lease:\n%s\n%s", out, errOut)
	}
	if lease[1] != svcHostAddr4 || lease[2] != "24" || lease[3] != svcHostGw4 || lease[4] != "65520" {
		t.Errorf("lease %v, want ip=%s mask=24 router=%s mtu=65520", lease[1:], svcHostAddr4, svcHostGw4)
	}
	slaac := regexp.MustCompile(`SLAAC (fd77::\S+)/64`).FindStringSubmatch(string(out))
	if slaac == nil {
		t.Errorf("no SLAAC address in fd77::/64 within 5 s:\n%s", out)
	}
	if !strings.Contains(string(out), "default via fe80::") {
		t.Errorf("no IPv6 default route via a link-local router:\n%s", out)
	}
	t.Logf("lease %v, SLAAC %v", lease[1:], slaac)
}

// TestIntegrationPastaPingPcap: ping and ping -6 from the namespace to the
// gateway (mapped to the host's loopback) lose nothing, and the capture
// written with --pcap holds the echo requests and replies, as tcpdump
// reads them.
func TestIntegrationPastaPingPcap(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed")
	}
	prefix := fakeDualStackHost(t, "gppinghost")
	capture := filepath.Join(t.TempDir(), "ping.pcap")
	inNs := `set -e
ping -n -c 3 -i 0.2 -W 2 ` + svcHostGw4 + `
ping -6 -n -c 3 -i 0.2 -W 2 ` + svcHostGw6 + `
`
	out, errOut, st := runPasta(t, nil, prefix, "--config-net", "--pcap", capture, "--", "sh", "-c", inNs)
	if st != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", st, out, errOut)
	}
	if n := strings.Count(string(out), "3 packets transmitted, 3 received, 0% packet loss"); n != 2 {
		t.Fatalf("%d of 2 pings without loss:\n%s", n, out)
	}
	dump, err := exec.Command("tcpdump", "-nn", "-r", capture).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, dump)
	}
	for _, want := range []struct {
		pattern string
		count   int
	}{
		{`ICMP echo request`, 3},
		{`ICMP echo reply`, 3},
		{`ICMP6, echo request`, 3},
		{`ICMP6, echo reply`, 3},
	} {
		if n := strings.Count(string(dump), want.pattern); n < want.count {
			t.Errorf("capture has %d %q, want %d:\n%s", n, want.pattern, want.count, dump)
		}
	}
}

// TestIntegrationPastaMalformedDuringPing injects 1,000 malformed frames
// into the tap from inside the namespace while a ping runs: no crash, no
// lost echo reply, and the drop counters of the last stats line match the
// frames injected.
func TestIntegrationPastaMalformedDuringPing(t *testing.T) {
	requireRoot(t)
	prefix := fakeDualStackHost(t, "gpmalhost")
	inNs := `set -e
ping -n -c 30 -i 0.05 -W 2 ` + svcHostGw4 + ` > /tmp/gp-ping.$$ &
p=$!
python3 -c "$INJECT" ` + svcUplink + `
wait $p
cat /tmp/gp-ping.$$; rm -f /tmp/gp-ping.$$
sleep 1.5
`
	argv := append(append(append([]string{}, prefix...), "env", "INJECT="+svcInjector, pastaBin), "--stats", "1", "--config-net", "--", "sh", "-c", inNs)
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := runBounded(t, cmd)
	if err != nil {
		t.Fatalf("pasta: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "30 packets transmitted, 30 received") {
		t.Fatalf("echo replies lost while malformed frames flowed:\n%s", out)
	}
	lines := regexp.MustCompile(`stats: [^"\n]*`).FindAllString(string(out), -1)
	if len(lines) == 0 {
		t.Fatalf("no stats line:\n%s", out)
	}
	last := lines[len(lines)-1]
	for k, v := range map[string]string{"truncated": "333", "ethertype": "334", "bad_l3": "333"} {
		m := regexp.MustCompile(`\b` + k + `=(\d+)`).FindStringSubmatch(last)
		if m == nil || m[1] != v {
			t.Errorf("%s: got %v, want %s (%s)", k, m, v, last)
		}
	}
}

// runBounded runs cmd with its combined output captured, killing it after
// a minute.
func runBounded(t *testing.T, cmd *exec.Cmd) ([]byte, error) {
	t.Helper()
	var b strings.Builder
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return []byte(b.String()), err
}
