// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkConfigNet runs "pasta --config-net" (through prefix) and checks the
// tap: named ifname, up, with addr/plen, and a default route via gw.
func checkConfigNet(t *testing.T, prefix []string, ifname, addr string, plen int, gw string) {
	t.Helper()
	out, errOut, st := runPasta(t, nil, prefix, "--config-net", "--", "sh", "-c", inNsScript)
	if st != 0 {
		t.Fatalf("status %d; stderr:\n%s", st, errOut)
	}
	var links []ipAddr
	var r4, r6 []ipRoute
	splitJSON(t, out, &links, &r4, &r6)
	tap, ok := findLink(links, ifname)
	if !ok {
		t.Fatalf("no link %q in the namespace: %s", ifname, out)
	}
	if !tap.up() {
		t.Errorf("tap %s is not UP: %v", ifname, tap.Flags)
	}
	if tap.Mtu != 65520 {
		t.Errorf("tap MTU %d, want 65520", tap.Mtu)
	}
	if !tap.has(addr, plen) {
		t.Errorf("tap lacks %s/%d: %+v", addr, plen, tap.AddrInfo)
	}
	if lo, ok := findLink(links, "lo"); !ok || !lo.up() {
		t.Errorf("lo is not up: %+v", lo)
	}
	found := false
	for _, r := range r4 {
		if r.Dst == "default" && r.Gateway == gw && r.Dev == ifname {
			found = true
		}
	}
	if !found {
		t.Errorf("no default route via %s dev %s: %+v", gw, ifname, r4)
	}
}

// TestIntegrationPastaConfigNetHost: the tap gets the host's own outbound
// address and gateway (or local mode if the host has no default route).
func TestIntegrationPastaConfigNetHost(t *testing.T) {
	requireRoot(t)
	dev, addr, plen, gw := hostOutbound(t)
	if dev == "" {
		checkConfigNet(t, nil, "tap0", "169.254.2.1", 16, "169.254.2.2")
		return
	}
	if addr == "" {
		t.Skipf("outbound interface %s has no global IPv4 address", dev)
	}
	checkConfigNet(t, nil, dev, addr, plen, gw)
}

// TestIntegrationPastaConfigNetFakeHost runs pasta in a namespace playing
// the host, with a known address and default route, for determinism.
func TestIntegrationPastaConfigNetFakeHost(t *testing.T) {
	requireRoot(t)
	ns := addNetns(t, "gpfakehost")
	mustRun(t, "ip", "-n", ns, "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink0p")
	mustRun(t, "ip", "-n", ns, "addr", "add", "10.77.1.5/24", "dev", "uplink0")
	mustRun(t, "ip", "-n", ns, "link", "set", "uplink0", "up")
	mustRun(t, "ip", "-n", ns, "link", "set", "uplink0p", "up")
	mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	mustRun(t, "ip", "-n", ns, "route", "add", "default", "via", "10.77.1.1")
	prefix := []string{"ip", "netns", "exec", ns}
	dev, addr, plen, gw := hostOutbound(t, prefix...)
	if dev != "uplink0" || addr != "10.77.1.5" || plen != 24 || gw != "10.77.1.1" {
		t.Fatalf("fake host: %s %s/%d via %s", dev, addr, plen, gw)
	}
	checkConfigNet(t, prefix, "uplink0", "10.77.1.5", 24, "10.77.1.1")
}

// TestIntegrationPastaConfigNetLocalMode: with no route at all, pasta
// falls back to 169.254.2.1/16 via 169.254.2.2 on "tap0".
func TestIntegrationPastaConfigNetLocalMode(t *testing.T) {
	requireRoot(t)
	ns := addNetns(t, "gplocalhost")
	mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	checkConfigNet(t, []string{"ip", "netns", "exec", ns}, "tap0", "169.254.2.1", 16, "169.254.2.2")
}

func TestIntegrationPastaExitStatus(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{name: "exit 0", script: "exit 0", want: 0},
		{name: "exit 7", script: "exit 7", want: 7},
		{name: "pid 1", script: `[ "$$" = 1 ] || exit 9`, want: 0},
		{name: "uid 0", script: `[ "$(id -u)" = 0 ] || exit 9`, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, st := runPasta(t, nil, nil, "--", "sh", "-c", tt.script)
			if st != tt.want {
				t.Errorf("status %d, want %d; stderr:\n%s", st, tt.want, errOut)
			}
		})
	}
}

// TestIntegrationPastaKilled: a command killed by SIGKILL from outside
// makes pasta exit 137.
func TestIntegrationPastaKilled(t *testing.T) {
	requireRoot(t)
	argv := []string{"sleep", "61.5"}
	cmd := exec.Command(pastaBin, append([]string{"--"}, argv...)...)
	done := startWait(t, cmd)
	pid := findChild(cmd.Process.Pid, argv, 10*time.Second)
	if pid == 0 {
		t.Fatal("command not found under pasta")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("pasta did not exit")
	}
	if st := cmd.ProcessState.ExitCode(); st != 137 {
		t.Errorf("status %d, want 137", st)
	}
}

// TestIntegrationPastaForwardsSIGTERM: SIGTERM to pasta reaches the
// command (here a shell that traps it and exits 5).
func TestIntegrationPastaForwardsSIGTERM(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command(pastaBin, "--", "sh", "-c", "trap 'exit 5' TERM; echo ready; while :; do sleep 0.05; done")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 6)
		stdout.Read(buf) // "ready\n": the trap is set
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("pasta did not exit after SIGTERM")
	}
	if st := cmd.ProcessState.ExitCode(); st != 5 {
		t.Errorf("status %d, want 5", st)
	}
}

// TestIntegrationPastaBadOption: one line on stderr naming the option,
// status 1, no namespace work.
func TestIntegrationPastaBadOption(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown", args: []string{"--no-such-option"}, want: "--no-such-option"},
		{name: "bad mtu", args: []string{"-m", "banana"}, want: "banana"},
		{name: "bad ns mac", args: []string{"--ns-mac-addr", "zz", "--", "true"}, want: "--ns-mac-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, st := runPasta(t, nil, nil, tt.args...)
			if st != 1 {
				t.Errorf("status %d, want 1", st)
			}
			lines := strings.Split(strings.TrimSpace(string(errOut)), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q does not name %s in one line", errOut, tt.want)
			}
		})
	}
}

// TestIntegrationPastaIfnameMTU: -I and -m reach the tap.
func TestIntegrationPastaIfnameMTU(t *testing.T) {
	requireRoot(t)
	out, errOut, st := runPasta(t, nil, nil, "-I", "gpif9", "-m", "1400", "--ns-mac-addr", "02:11:22:33:44:55", "--", "sh", "-c", "ip -j addr")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	var links []ipAddr
	splitJSON(t, out, &links)
	tap, ok := findLink(links, "gpif9")
	if !ok || tap.Mtu != 1400 || !tap.up() || tap.Address != "02:11:22:33:44:55" {
		t.Errorf("tap: %+v (found %v)", tap, ok)
	}
}
