// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// passt --vhost-user with a real guest: the vmrig boots its guest in qemu
// with -netdev vhost-user on passt's socket and the guest's RAM in a
// shared memfd (VMRIG_NETDEV=vhost-user; qemu >= 8, which ./dev deps
// installs on Debian 12 from bookworm-backports), in the namespace of the
// stream-socket VM tests (vmNetns), so that the guest reaches nothing else.
//
// Boots (TCG: each costs seconds, so one boot runs many tests):
//  1. a 256 MiB download, qemu SIGKILLed mid-transfer: passt stays and
//  2. serves the next qemu on the same socket: the rig's tests, the set
//     demo-passt.sh runs (DHCP, ping, HTTP over IPv4 and IPv6 with
//     SHA-256, here 256 MiB each; iperf3 both ways and through -t, UDP,
//     SLAAC), plus 256 MiB from the guest to the host, its SHA-256
//     checked on the host; throughput floors (far below upstream's
//     figures here) catch transfers that stall;
//  3. a second passt with --one-off: its guest reboots (qemu resets the
//     machine on the same vhost-user connection) and is served again;
//     then, attached, its memory is mapped in passt and every gopasst
//     process passes the sandbox audit; once the guest has powered off,
//     passt exits 0.
//
// GOPASST_VU_IMPL=ref runs upstream passt 2026 (shared/bench/ref/passt)
// with the same options in place of gopasst, to check the harness itself;
// the audit is then skipped (it is about gopasst's processes).
// GOPASST_VM_HTTP_MB and GOPASST_VM_IPERF_SECS change the sizes.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopasst/proto/tcp"
)

// refPasst returns upstream's passt 2026 in shared/bench/ref (beside the
// repository, as CI lays it out, or /work/shared), or "".
func refPasst() string {
	for _, d := range []string{"../../shared/bench/ref", "/work/shared/bench/ref"} {
		bin, err := filepath.Abs(filepath.Join(d, "passt"))
		if err != nil {
			continue
		}
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	return ""
}

// vuImpl returns the passt the vhost-user tests run, and whether it is
// upstream's (GOPASST_VU_IMPL=ref).
func vuImpl(t *testing.T) (string, bool) {
	t.Helper()
	switch v := os.Getenv("GOPASST_VU_IMPL"); v {
	case "", "gopasst":
		return passtBin, false
	case "ref":
		bin := refPasst()
		if bin == "" {
			t.Fatal("GOPASST_VU_IMPL=ref: no shared/bench/ref/passt")
		}
		t.Logf("testing upstream passt %s, not gopasst", bin)
		return bin, true
	default:
		t.Fatalf("GOPASST_VU_IMPL=%q: want gopasst or ref", v)
	}
	return "", false
}

// qemuMajor returns the major version of qemu-system-x86_64.
func qemuMajor(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("qemu-system-x86_64", "--version").Output()
	if err != nil {
		t.Fatalf("qemu-system-x86_64 --version: %v", err)
	}
	f := strings.Fields(strings.TrimPrefix(string(out), "QEMU emulator version "))
	if len(f) == 0 {
		t.Fatalf("qemu version: %q", out)
	}
	v, _ := strconv.Atoi(strings.SplitN(f[0], ".", 2)[0])
	return v
}

// waitNsListen waits until a TCP socket listens on port in ns (without
// connecting: a one-shot server would take the probe as its client).
func waitNsListen(t *testing.T, ns string, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :"+strconv.Itoa(port)).Output()
		if len(bytes.TrimSpace(out)) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on port %d in %s", port, ns)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vuUploadPort is where the receiver of the guest's upload listens, on
// the namespace's loopback (the guest reaches it through the gateway).
const vuUploadPort = 5300

// vuReceiver is a one-connection server on port %d in ns: it reads
// to EOF and prints "BYTES SHA256".
const vuReceiver = `
import hashlib, socket
l = socket.create_server(("127.0.0.1", %d))
l.settimeout(600)
c, _ = l.accept()
c.settimeout(120)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
`

// startReceiver starts vuReceiver in ns; done is closed when it exited.
func startReceiver(t *testing.T, ns string) (out *syncBuffer, done chan struct{}) {
	t.Helper()
	out, done = &syncBuffer{}, make(chan struct{})
	cmd := exec.Command("ip", "netns", "exec", ns, "python3", "-c", fmt.Sprintf(vuReceiver, vuUploadPort))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL); <-done })
	waitNsListen(t, ns, vuUploadPort)
	return out, done
}

// vuUploadCmd is the guest's half of the upload: the HTTP test's file
// (random, its SHA-256 known to the test) fetched again into RAM, then
// sent to the receiver through the gateway by busybox cat (sendfile) on
// the socket of busybox nc -e: the guest's kernel moves it, as fast as
// iperf3 (nc's own relay copies 1 KiB at a time).
func vuUploadCmd() string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`gw=$(ip route | awk '/^default/ {print $3; exit}')
timeout 60 wget -q -O /tmp/up "http://$gw:8000/big.bin" || exit 1
t0=$(cut -d' ' -f1 /proc/uptime)
timeout 100 nc "$gw" %d -e /bin/cat /tmp/up
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "UPLOAD bytes=$(stat -c %%s /tmp/up) rc=$rc secs=$(awk -v a=$t0 -v b=$t1 'BEGIN { print b - a }')"
rm -f /tmp/up
exit $rc
`, vuUploadPort)))
}

// vuRebootCmd reboots the guest (reboot(2): qemu resets the machine) if
// the file reboot-once is served.
var vuRebootCmd = base64.StdEncoding.EncodeToString([]byte(`gw=$(ip route | awk '/^default/ {print $3; exit}')
if timeout 10 wget -q -O /dev/null "http://$gw:8000/reboot-once"; then
	echo rebooting
	sync
	reboot -f
	sleep 30
fi
exit 0
`))

// mapsMemfd reports whether pid or a process below it maps a memfd: the
// guest memory qemu passed over the vhost-user socket.
func mapsMemfd(pid int) bool {
	for _, p := range append([]int{pid}, descendants(pid)...) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p))
		if bytes.Contains(b, []byte("/memfd:")) {
			return true
		}
	}
	return false
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestIntegrationVhostUserVM(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"qemu-system-x86_64", "python3", "iperf3", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (./dev deps installs it)", tool)
		}
	}
	if v := qemuMajor(t); v < 8 {
		t.Fatalf("qemu %d: a vhost-user netdev needs qemu >= 8 (./dev deps installs qemu 10 from bookworm-backports)", v)
	}
	bin, ref := vuImpl(t)
	vmrigBuild(t)
	ns := vmNetns(t)
	// Remote hosts on the namespace's loopback, as in demo-passt.sh.
	mustRun(t, "ip", "-n", ns, "addr", "add", "192.0.2.3/32", "dev", "lo")
	mustRun(t, "ip", "-n", ns, "addr", "add", "2001:db8::3/128", "dev", "lo")
	mb := envInt("GOPASST_VM_HTTP_MB", 256)
	secs := strconv.Itoa(envInt("GOPASST_VM_IPERF_SECS", 3))
	start := time.Now()
	wwwDir, sha, httpLog := vmHTTPDir(t, ns, mb)
	t.Logf("%d MiB test file in %v", mb, time.Since(start).Round(time.Millisecond))
	startProc(t, "ip", "netns", "exec", ns, "iperf3", "-s", "-p", "5201")
	waitNsListen(t, ns, 5201)

	// passt started as root switches to nobody before binding (upstream):
	// a directory anyone may write, like /tmp.
	dir := auditDir(t)
	sock := filepath.Join(dir, "vu.sock")
	env := []string{"VMRIG_NETDEV=vhost-user"}
	argv := []string{"ip", "netns", "exec", ns, bin, "--vhost-user", "-f", "-s", sock, "-t", vmFwdPort}
	if !ref {
		argv = append(argv, "--stats", "1") // tcp_lent: the zero-copy receive path was taken
	}
	p := startPasstArgv(t, sock, nil, argv)

	t.Run("kill qemu mid-transfer", func(t *testing.T) {
		var killed bool
		r := runVMEnv(t, env, ns, sock, killMidTransfer(t, httpLog, &killed),
			fmt.Sprintf("http,http://%%GW%%:8000/big.bin,%s,120", sha))
		if !killed {
			t.Fatalf("qemu was not killed mid-transfer (rc %d):\n%s\npasst log:\n%s", r.rc, r.output, p.logText())
		}
		if _, done := r.results["http"]; done {
			t.Fatalf("the download finished before the kill:\n%s", r.output)
		}
		if !ref {
			p.waitLog(t, "waiting for the next guest", 1, 10*time.Second)
		}
		time.Sleep(200 * time.Millisecond)
		if p.exited() {
			t.Fatalf("passt exited after qemu was killed:\n%s", p.logText())
		}
		t.Logf("passt log after the kill:\n%s", lastLines(p.logText(), 4))
	})

	t.Run("rig tests and an upload on the next qemu", func(t *testing.T) {
		recv, recvDone := startReceiver(t, ns)
		tests := []string{
			"ping:remote,192.0.2.3,3",
			fmt.Sprintf("http,http://%%GW%%:8000/big.bin,%s,180", sha),
			"iperf3,5201," + secs,
			"iperf3r,5201," + secs,
			"iperf3s," + vmFwdPort + "," + secs,
			"iperf3u,5201,3,500M",
			"ipv6,10",
			fmt.Sprintf("http:v6,http://[2001:db8::1]:8000/big.bin,%s,180", sha),
			"cmd:upload," + vuUploadCmd(),
		}
		r := runVMEnv(t, env, ns, sock, nil, tests...)
		t.Logf("qemu start to done %v; results:\n%s", r.elapsed.Round(10*time.Millisecond),
			grepLines(r.output, "VMTEST RESULT", "VMRIG HOST", "UPLOAD", "VMRIG SUMMARY"))
		if dhcp := r.results["dhcp"]; dhcp["status"] != "ok" || dhcp["value"] != vmNsAddr4+"/24" || dhcp["mtu"] != "65520" {
			t.Errorf("dhcp: %v", dhcp)
		}
		for _, name := range []string{"ping:remote", "http", "iperf3", "iperf3r", "iperf3s", "iperf3u", "ipv6", "http:v6", "cmd:upload"} {
			res, ok := r.results[name]
			switch {
			case !ok || res["status"] != "ok":
				t.Errorf("%s: %v", name, res)
			case strings.HasPrefix(name, "http") && (res["sha256_ok"] != "yes" || res["bytes"] != strconv.Itoa(mb<<20)):
				t.Errorf("%s: not the file: %v", name, res)
			}
		}
		// Floors far below what upstream's vhost-user reaches in this rig
		// on a loaded 2-core TCG machine (HTTP 61-173 MB/s, TCP 1.2-3.8
		// Gbit/s): under them a transfer stalled, e.g. frames lost to a
		// full receive ring and recovered only by retransmission timeouts.
		for name, floor := range map[string]float64{"http": 15, "http:v6": 15, "iperf3": 0.25, "iperf3r": 0.25, "iperf3s": 0.25} {
			if v, err := strconv.ParseFloat(r.results[name]["value"], 64); err == nil && v < floor {
				t.Errorf("%s: %g %s, under the floor of %g: a stall", name, v, r.results[name]["unit"], floor)
			}
		}
		if v6 := r.results["ipv6"]["value"]; !strings.HasPrefix(v6, "2001:db8::") {
			t.Errorf("IPv6 address %q is not in the namespace's prefix 2001:db8::/64", v6)
		}
		if !strings.Contains(r.output, "VMRIG HOST name=iperf3s-client status=ok") {
			t.Errorf("the host's iperf3 client through -t %s did not complete", vmFwdPort)
		}
		// What the host received: the file, whole.
		select {
		case <-recvDone:
		case <-time.After(10 * time.Second):
			t.Errorf("the upload's receiver did not finish")
		}
		if got, want := strings.TrimSpace(recv.String()), fmt.Sprintf("%d %s", mb<<20, sha); got != want {
			t.Errorf("upload: the host received %q, want %q (bytes, SHA-256)", got, want)
		}
		// Data to the guest was read straight into its receive buffers.
		if !ref {
			time.Sleep(1100 * time.Millisecond) // the next stats line
			if st := p.lastStats(t); st["tcp_lent"] == 0 {
				t.Errorf("no TCP frame built in the guest's buffers: %v", st)
			}
		}
		if r.rc != 0 || t.Failed() {
			t.Errorf("run-vm.sh exit %d:\n%s\npasst log:\n%s", r.rc, r.output, p.logText())
		}
	})

	// Kernels before 6.10 (Debian 12's 6.1) have no SO_PEEK_OFF for TCP:
	// each peek into the guest's buffers first reads the bytes in flight
	// again into the discard buffer. That path, on this kernel.
	t.Run("without SO_PEEK_OFF", func(t *testing.T) {
		if ref {
			t.Skip("GOPASST_PEEK_OFFSET is gopasst's")
		}
		t.Setenv(tcp.PeekOffsetEnv, "off")
		sock2 := filepath.Join(dir, "nopeek.sock")
		p2 := startPasstArgv(t, sock2, nil, []string{"ip", "netns", "exec", ns, bin,
			"--vhost-user", "-f", "-s", sock2, "--stats", "1"})
		r := runVMEnv(t, env, ns, sock2, nil,
			fmt.Sprintf("http,http://%%GW%%:8000/big.bin,%s,180", sha), "iperf3r,5201,"+secs)
		t.Logf("results:\n%s", grepLines(r.output, "VMTEST RESULT", "VMRIG SUMMARY"))
		if h := r.results["http"]; h["status"] != "ok" || h["sha256_ok"] != "yes" || h["bytes"] != strconv.Itoa(mb<<20) {
			t.Errorf("http: %v", h)
		}
		if v, err := strconv.ParseFloat(r.results["iperf3r"]["value"], 64); err != nil || v < 0.25 {
			t.Errorf("iperf3r: %v, under the floor of 0.25 Gbit/s: a stall", r.results["iperf3r"])
		}
		time.Sleep(1100 * time.Millisecond) // the next stats line
		if st := p2.lastStats(t); st["tcp_lent"] == 0 {
			t.Errorf("no TCP frame built in the guest's buffers: %v", st)
		}
		if !strings.Contains(p2.logText(), "without SO_PEEK_OFF") {
			t.Errorf("passt did not say it peeks without SO_PEEK_OFF:\n%s", p2.logText())
		}
		if r.rc != 0 || t.Failed() {
			t.Errorf("run-vm.sh exit %d:\n%s\npasst log:\n%s", r.rc, r.output, p2.logText())
		}
	})

	t.Run("one-off, guest reboot, sandbox audit", func(t *testing.T) {
		sock1 := filepath.Join(dir, "oneoff.sock")
		p1 := startPasstArgv(t, sock1, nil, []string{"ip", "netns", "exec", ns, bin,
			"--vhost-user", "-f", "-1", "-s", sock1})
		// The guest reboots once (qemu resets the machine, the vhost-user
		// connection stays: the device is stopped and set up again):
		// while the flag file is served. The second boot removes it.
		flag := filepath.Join(wwwDir, "reboot-once")
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		boots, audited := 0, false
		r := runVMEnv(t, append(env, "VMRIG_QEMU_ARGS=-action reboot=reset"), ns, sock1, func(line string, _ int) {
			switch {
			case strings.Contains(line, "VMTEST BOOT"):
				if boots++; boots == 2 {
					os.Remove(flag)
				}
			case strings.Contains(line, "VMTEST RESULT name=ping") && boots == 2:
				// The rebooted guest is served and sleeps now, attached.
				audited = true
				if !mapsMemfd(p1.cmd.Process.Pid) {
					t.Errorf("no memfd (guest memory) mapped by passt (PID %d) or below it", p1.cmd.Process.Pid)
				}
				if !ref {
					auditAll(t, 4) // two passt -f as root: launcher and sandboxed process each
				}
			}
		}, "ping:remote,192.0.2.3,1", "cmd:reboot,"+vuRebootCmd, "sleep,3")
		if boots != 2 || !audited || r.rc != 0 {
			t.Fatalf("%d boots; run-vm.sh exit %d:\n%s\npasst log:\n%s", boots, r.rc, r.output, p1.logText())
		}
		if st := p1.wait(10 * time.Second); st != 0 {
			t.Fatalf("one-off passt: exit status %d after its guest left, want 0\n%s", st, p1.logText())
		}
	})
}

// TestIntegrationVhostUserCapabilities: --print-capabilities as upstream
// 2026 prints it (libvirt's probe), under both names: the same stdout,
// stderr and exit status.
func TestIntegrationVhostUserCapabilities(t *testing.T) {
	refBin := refPasst()
	if refBin == "" {
		t.Skip("no shared/bench/ref/passt to compare with")
	}
	run := func(argv0 string) string {
		cmd := exec.Command(argv0, "--print-capabilities")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatal(err)
		}
		return fmt.Sprintf("exit %d\nstdout %q\nstderr %q", cmd.ProcessState.ExitCode(), stdout.String(), stderr.String())
	}
	for _, tt := range []struct{ ours, theirs string }{{passtBin, refBin}, {pastaBin, refPasta(t)}} {
		got, want := run(tt.ours), run(tt.theirs)
		if got != want {
			t.Errorf("%s --print-capabilities:\n%s\nupstream:\n%s", filepath.Base(tt.ours), got, want)
		}
	}
}
