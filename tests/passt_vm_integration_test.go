// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// passt mode with a real guest: the vmrig (/work/shared/vmrig, or
// $GOPASST_VMRIG) boots Debian's kernel with a busybox initramfs in qemu
// (TCG here) on gopasst's socket. gopasst, the HTTP server and the
// host-side iperf3 client run in a network namespace the test creates, as
// in the rig's demo-passt.sh, so the guest reaches nothing else.
//
// Boots, in order, all on one passt unless said otherwise:
//  1. a 256 MiB download, qemu SIGKILLed mid-transfer: passt logs it and
//     waits for the next guest;
//  2. the services: DHCP values, hostname, ping to the gateway, HTTP via
//     the mapped gateway with SHA-256, a -t forwarded port into the guest
//     (iperf3s), IPv6 (SLAAC);
//  3. a second passt with --one-off, qemu SIGKILLed mid-transfer: passt
//     exits 0.
//
// The rig's build output is cached in $GOPASST_VMRIG_WORK (default
// /tmp/gopasst-vmrig); the first build downloads the kernel package with
// apt-get download (~20 s), later runs reuse it.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
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
)

// vmrigDir is the rig's source; its scripts write only under VMRIG_WORK.
// It is $GOPASST_VMRIG, else shared/vmrig beside the repository (where CI
// puts its read-only copy of shared/), else /work/shared/vmrig.
func vmrigDir() string {
	if d := os.Getenv("GOPASST_VMRIG"); d != "" {
		return d
	}
	// The test runs in <repo>/tests.
	if d, err := filepath.Abs("../../shared/vmrig"); err == nil {
		if _, err := os.Stat(filepath.Join(d, "run-vm.sh")); err == nil {
			return d
		}
	}
	return "/work/shared/vmrig"
}

func vmrigWork() string {
	if d := os.Getenv("GOPASST_VMRIG_WORK"); d != "" {
		return d
	}
	return "/tmp/gopasst-vmrig"
}

// vmrigBuild builds the kernel and initramfs unless cached.
func vmrigBuild(t *testing.T) {
	t.Helper()
	out := filepath.Join(vmrigWork(), "out")
	if _, err := os.Stat(filepath.Join(out, "initramfs.cpio.gz")); err == nil {
		return
	}
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join(vmrigDir(), "build-initramfs.sh"))
	cmd.Env = append(os.Environ(), "VMRIG_WORK="+vmrigWork())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-initramfs.sh: %v\n%s", err, b)
	}
	t.Logf("vmrig built in %v", time.Since(start))
}

// The namespace's addresses, as in demo-passt.sh.
const (
	vmNsAddr4 = "192.0.2.2"
	vmNsGw4   = "192.0.2.1"
	vmDNS     = "192.0.2.53"
	vmHost    = "gpvm"
	vmFwdPort = "5202"
)

// vmNetns creates the namespace: lo, and a veth pair (both ends inside)
// carrying 192.0.2.2/24 and 2001:db8::2/64 with default routes. It is
// removed on cleanup, after every process in it is killed.
func vmNetns(t *testing.T) string {
	t.Helper()
	// ICMP echo goes through ping sockets, opened by the sandboxed process as
	// nobody: fakeHostNetns allows them.
	return fakeHostNetns(t, fmt.Sprintf("gopasst-vm-%d", os.Getpid()), "vr0",
		vmNsAddr4, vmNsGw4, "2001:db8::2", "2001:db8::1")
}

// vmHTTP serves a file of mb MiB of random data from the namespace's
// loopback, port 8000, and returns its SHA-256 and the server's log.
func vmHTTP(t *testing.T, ns string, mb int) (sha, logPath string) {
	t.Helper()
	_, sha, logPath = vmHTTPDir(t, ns, mb)
	return sha, logPath
}

// vmHTTPDir is vmHTTP, and returns the directory served too (big.bin is
// the file; a test may add others).
func vmHTTPDir(t *testing.T, ns string, mb int) (dir, sha, logPath string) {
	t.Helper()
	dir = t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, int64(mb)<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	logPath = filepath.Join(t.TempDir(), "http.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "python3", "-m", "http.server", "8000",
		"--bind", "::", "--directory", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL); cmd.Wait(); logf.Close() })
	waitNsListen(t, ns, 8000)
	return dir, hex.EncodeToString(h.Sum(nil)), logPath
}

// vmResult is one "VMTEST RESULT" line: its fields.
type vmResult map[string]string

// vmRun is one boot of the rig.
type vmRun struct {
	rc      int                 // run-vm.sh's exit status
	results map[string]vmResult // by name
	output  string
	elapsed time.Duration
}

var vmFieldRe = regexp.MustCompile(`(\w+)=(\S*)`)

// runVM boots the guest on sock with tests. onLine, if not nil, sees each
// output line as it comes (from another goroutine) and may kill qemu.
func runVM(t *testing.T, ns, sock string, onLine func(line string, runPID int), tests ...string) vmRun {
	t.Helper()
	return runVMEnv(t, nil, ns, sock, onLine, tests...)
}

// runVMEnv is runVM with run-vm.sh settings added to its environment
// (VMRIG_NETDEV=vhost-user, ...).
func runVMEnv(t *testing.T, env []string, ns, sock string, onLine func(line string, runPID int), tests ...string) vmRun {
	t.Helper()
	logs := t.TempDir()
	cmd := exec.Command("bash", append([]string{filepath.Join(vmrigDir(), "run-vm.sh"), sock}, tests...)...)
	cmd.Env = append(os.Environ(),
		"VMRIG_WORK="+vmrigWork(),
		"VMRIG_LOG="+filepath.Join(logs, "console.log"),
		"VMRIG_HOST_WRAP=ip netns exec "+ns,
		"VMRIG_TIMEOUT=300")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) }) // its process group: qemu included
	r := vmRun{results: map[string]vmResult{}}
	var out strings.Builder
	var mu sync.Mutex
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		mu.Lock()
		out.WriteString(line + "\n")
		mu.Unlock()
		if i := strings.Index(line, "VMTEST RESULT "); i >= 0 {
			res := vmResult{}
			for _, kv := range vmFieldRe.FindAllStringSubmatch(line[i:], -1) {
				res[kv[1]] = kv[2]
			}
			r.results[res["name"]] = res
		}
		if onLine != nil {
			onLine(line, pid)
		}
	}
	err = cmd.Wait()
	r.elapsed = time.Since(start)
	r.rc = cmd.ProcessState.ExitCode()
	r.output = out.String() + stderr.String()
	t.Logf("run-vm.sh exit %d after %v", r.rc, r.elapsed.Round(10*time.Millisecond))
	return r
}

// descendantNamed returns the PID of a descendant of root whose comm
// starts with prefix, or 0.
func descendantNamed(root int, prefix string) int {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	comm := map[int]string{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i || j+4 > len(s) {
			continue
		}
		comm[pid] = s[i+1 : j]
		f := strings.Fields(s[j+2:])
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	for pid, c := range comm {
		if !strings.HasPrefix(c, prefix) {
			continue
		}
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				return pid
			}
		}
	}
	return 0
}

// killMidTransfer returns an onLine hook that SIGKILLs qemu once the
// guest's download has run for a while: the HTTP server logged the GET
// and 300 ms passed.
func killMidTransfer(t *testing.T, httpLog string, killed *bool) func(string, int) {
	var once sync.Once
	gets := func() int {
		b, _ := os.ReadFile(httpLog)
		return strings.Count(string(b), "GET /big.bin")
	}
	before := gets()
	return func(line string, runPID int) {
		if !strings.Contains(line, "VMTEST RESULT name=dhcp") {
			return
		}
		once.Do(func() {
			go func() {
				deadline := time.Now().Add(60 * time.Second)
				for time.Now().Before(deadline) {
					if gets() > before {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(300 * time.Millisecond) // into the transfer (~2.5 s at 110 MB/s)
				if pid := descendantNamed(runPID, "qemu-system"); pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
					*killed = true
					t.Logf("SIGKILL qemu (PID %d) mid-transfer", pid)
				}
			}()
		})
	}
}

func TestIntegrationPasstVM(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"qemu-system-x86_64", "python3", "iperf3", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (CI: apt-get install qemu-system-x86 python3 iperf3 iproute2)", tool)
		}
	}
	vmrigBuild(t)
	ns := vmNetns(t)
	mb := 256
	if v, err := strconv.Atoi(os.Getenv("GOPASST_VM_HTTP_MB")); err == nil && v > 0 {
		mb = v
	}
	start := time.Now()
	sha, httpLog := vmHTTP(t, ns, mb)
	t.Logf("%d MiB test file in %v", mb, time.Since(start).Round(time.Millisecond))

	sockDir := t.TempDir()
	sock := filepath.Join(sockDir, "passt.sock")
	p := startPasstArgv(t, sock, nil, []string{"ip", "netns", "exec", ns, passtBin,
		"-f", "-s", sock, "-t", vmFwdPort, "-D", vmDNS, "-H", vmHost, "--stats", "30"})

	t.Run("kill qemu mid-transfer", func(t *testing.T) {
		var killed bool
		r := runVM(t, ns, sock, killMidTransfer(t, httpLog, &killed),
			fmt.Sprintf("http,http://%%GW%%:8000/big.bin,%s,120", sha))
		if !killed {
			t.Fatalf("qemu was not killed mid-transfer (rc %d):\n%s", r.rc, r.output)
		}
		if _, done := r.results["http"]; done {
			t.Fatalf("the download finished before the kill:\n%s", r.output)
		}
		p.waitLog(t, "guest disconnected", 1, 10*time.Second)
		p.waitLog(t, "waiting for the next guest", 1, 10*time.Second)
		if p.exited() {
			t.Fatal("passt exited after qemu was killed")
		}
		t.Logf("passt log after the kill:\n%s", lastLines(p.logText(), 4))
	})

	t.Run("services", func(t *testing.T) {
		hostnameCmd := base64.StdEncoding.EncodeToString([]byte(
			"printf '#!/bin/sh\\n[ \"$1\" = bound ] && echo \"LEASE hostname=$hostname mtu=$mtu\"\\nexit 0\\n' > /tmp/h.sh\n" +
				"chmod +x /tmp/h.sh\n" +
				"timeout 20 udhcpc -i eth0 -n -q -f -t 3 -T 2 -O hostname -O mtu -s /tmp/h.sh\n"))
		r := runVM(t, ns, sock, nil,
			"ping,%GW%,3",
			fmt.Sprintf("http,http://%%GW%%:8000/big.bin,%s,120", sha),
			"iperf3s,"+vmFwdPort+",3",
			"ipv6,10",
			"cmd:hostname,"+hostnameCmd)
		t.Logf("boot-to-done %v; results:\n%s", r.elapsed.Round(10*time.Millisecond), grepLines(r.output, "VMTEST RESULT", "VMRIG"))
		dhcp, ok := r.results["dhcp"]
		if !ok || dhcp["status"] != "ok" {
			t.Fatalf("no DHCP lease:\n%s", r.output)
		}
		want := map[string]string{
			"value": vmNsAddr4 + "/24", "router": vmNsGw4, "dns": vmDNS, "mtu": "65520",
		}
		for k, v := range want {
			if dhcp[k] != v {
				t.Errorf("dhcp %s=%q, want %q", k, dhcp[k], v)
			}
		}
		if !strings.Contains(r.output, "LEASE hostname="+vmHost+" mtu=65520") {
			t.Errorf("DHCP hostname: no \"LEASE hostname=%s\" in the output", vmHost)
		}
		for _, name := range []string{"ping", "http", "iperf3s", "ipv6"} {
			res, ok := r.results[name]
			if !ok || res["status"] != "ok" {
				t.Errorf("%s: %v", name, res)
				continue
			}
			t.Logf("%s: %s %s %v", name, res["value"], res["unit"], res)
		}
		if v6 := r.results["ipv6"]["value"]; !strings.HasPrefix(v6, "2001:db8::") {
			t.Errorf("IPv6 address %q is not in the prefix gopasst advertises (2001:db8::/64)", v6)
		}
		if r.rc != 0 || t.Failed() {
			t.Errorf("run-vm.sh exit %d:\n%s\npasst log:\n%s", r.rc, r.output, p.logText())
		}
	})

	t.Run("one-off exits after kill", func(t *testing.T) {
		sock1 := filepath.Join(sockDir, "oneoff.sock")
		p1 := startPasstArgv(t, sock1, nil, []string{"ip", "netns", "exec", ns, passtBin,
			"-f", "-1", "-s", sock1})
		var killed bool
		r := runVM(t, ns, sock1, killMidTransfer(t, httpLog, &killed),
			fmt.Sprintf("http,http://%%GW%%:8000/big.bin,%s,120", sha))
		if !killed {
			t.Fatalf("qemu was not killed mid-transfer (rc %d):\n%s", r.rc, r.output)
		}
		if _, done := r.results["http"]; done {
			t.Fatalf("the download finished before the kill:\n%s", r.output)
		}
		if st := p1.wait(10 * time.Second); st != 0 {
			t.Fatalf("one-off passt: exit status %d after qemu was killed, want 0\n%s", st, p1.logText())
		}
	})
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func grepLines(s string, subs ...string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				b.WriteString(l + "\n")
				break
			}
		}
	}
	return b.String()
}
