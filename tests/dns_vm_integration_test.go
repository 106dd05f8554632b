// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dnsVMName is the name the guest resolves: the responder answers it with
// the gateway's address, which passt maps to the host's loopback, where
// the HTTP server listens.
const dnsVMName = "files.gopasst-vm.test"

// TestIntegrationPasstVMDNS boots the vmrig guest once on a passt given
// "-D 192.0.2.53 --dns-forward 192.0.2.53 --dns-host 127.0.0.1". The
// guest's udhcpc hook writes the DHCP resolver to /etc/resolv.conf, and
// busybox wget fetches http://NAME:8000/big.bin: the query goes through
// passt's UDP handler to the test's responder on 127.0.0.1:53 of the
// namespace playing the host, the answer (the gateway) back, and the
// download through the gateway mapping to the HTTP server.
func TestIntegrationPasstVMDNS(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"qemu-system-x86_64", "python3", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (CI: apt-get install qemu-system-x86 python3 iproute2)", tool)
		}
	}
	vmrigBuild(t)
	ns := vmNetns(t)
	gw := netip.MustParseAddr(vmNsGw4)
	dns := startDNSResponder(t, hostNsPath(ns), netip.MustParseAddrPort("127.0.0.1:53"),
		map[string][]netip.Addr{dnsVMName: {gw}})
	sha, _ := vmHTTP(t, ns, 1)

	sock := filepath.Join(t.TempDir(), "passt.sock")
	p := startPasstArgv(t, sock, nil, []string{"ip", "netns", "exec", ns, passtBin,
		"-f", "-s", sock, "-D", vmDNS, "--dns-forward", vmDNS, "--dns-host", "127.0.0.1"})

	// Diagnosis first: the resolver the guest got, and busybox's own
	// resolver (nslookup) asking it.
	diag := base64.StdEncoding.EncodeToString([]byte(
		"cat /etc/resolv.conf\ntimeout 10 nslookup " + dnsVMName + " 2>&1\nexit 0\n"))
	r := runVM(t, ns, sock, nil,
		"cmd:resolv,"+diag,
		fmt.Sprintf("http:byname,http://%s:8000/big.bin,%s,60", dnsVMName, sha))
	t.Logf("boot-to-done %v; DNS queries answered: udp %d, tcp %d; results:\n%s",
		r.elapsed.Round(10*time.Millisecond), dns.udp.Load(), dns.tcp.Load(),
		grepLines(r.output, "VMTEST RESULT", "VMTEST OUT"))
	if d, ok := r.results["dhcp"]; !ok || d["status"] != "ok" || d["dns"] != vmDNS {
		t.Fatalf("DHCP: %v (want dns=%s):\n%s", d, vmDNS, r.output)
	}
	res, ok := r.results["http:byname"]
	switch {
	case ok && res["status"] == "ok" && res["sha256_ok"] == "yes":
		t.Logf("http://%s:8000/big.bin: %s MB/s, sha256 ok", dnsVMName, res["value"])
	case dns.udp.Load()+dns.tcp.Load() == 0 && !strings.Contains(r.output, "nameserver "+vmDNS):
		t.Skipf("the guest never asked the resolver and its /etc/resolv.conf lacks %s: the rig cannot resolve names:\n%s", vmDNS, r.output)
	default:
		t.Fatalf("download by name failed: %v; DNS queries answered: udp %d tcp %d\n%s\npasst log:\n%s",
			res, dns.udp.Load(), dns.tcp.Load(), r.output, p.logText())
	}
	if dns.udp.Load() == 0 {
		t.Errorf("the responder answered no UDP query")
	}
	if r.rc != 0 {
		t.Errorf("run-vm.sh exit %d:\n%s", r.rc, r.output)
	}
}
