// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"encoding/base64"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIntegrationEgressPasstVM: passt with a deny rule and a qemu guest
// (vmrig). The namespace carries two extra networks on its loopback,
// 10.202.0.0/24 (denied) and 10.203.0.0/24 (allowed), with an HTTP server
// on both. From the guest, busybox wget (with timeout(1): its own -T
// crashes busybox 1.35) to the denied address fails with
// "Connection refused" at once (the RST for its SYN), ping gets no reply,
// and wget to the allowed address fetches the file; the audit log has
// the deny event.
func TestIntegrationEgressPasstVM(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"qemu-system-x86_64", "python3", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	vmrigBuild(t)
	ns := vmNetns(t)
	for _, a := range []string{egDenied4 + "/24", egAllowed4 + "/24"} {
		mustRun(t, "ip", "-n", ns, "addr", "add", a, "dev", "lo")
	}
	sha, _ := vmHTTP(t, ns, 1)
	sockDir := t.TempDir()
	sock := filepath.Join(sockDir, "passt.sock")
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	p := startPasstArgv(t, sock, nil, []string{"ip", "netns", "exec", ns, passtBin,
		"-f", "-s", sock, "--egress-deny", egDenyRule, "--audit-log", auditPath})

	snippet := fmt.Sprintf(`s=$(date +%%s)
timeout 5 wget -q -O /tmp/denied http://%[1]s:8000/big.bin > /tmp/denied.log 2>&1; rc=$?
out=$(cat /tmp/denied.log)
echo "denied: rc=$rc $out after $(( $(date +%%s) - s ))s"
case "$out" in *refused*) ;; *) exit 1 ;; esac
[ $rc -ne 0 ] || exit 1
[ $(( $(date +%%s) - s )) -le 2 ] || exit 1
if ping -c 1 -W 2 %[1]s; then exit 1; fi
timeout 20 wget -q -O /tmp/allowed http://%[2]s:8000/big.bin || exit 1
got=$(sha256sum /tmp/allowed | cut -d' ' -f1)
echo "allowed: $got"
[ "$got" = "%[3]s" ]
`, egDenied4, egAllowed4, sha)
	r := runVM(t, ns, sock, nil, "cmd:egress,"+base64.StdEncoding.EncodeToString([]byte(snippet)))
	t.Logf("results:\n%s", grepLines(r.output, "VMTEST RESULT", "VMTEST OUT"))
	if res := r.results["cmd:egress"]; res["status"] != "ok" || r.rc != 0 {
		t.Fatalf("egress checks in the guest: %v (rc %d)\n%s\npasst log:\n%s", res, r.rc, r.output, p.logText())
	}
	var denied bool
	for _, ev := range readAudit(t, auditPath) {
		if ev["event"] == "deny" && ev["host"] == egDenied4+":8000" && ev["proto"] == "tcp" {
			denied = true
		}
	}
	if !denied {
		b, _ := exec.Command("cat", auditPath).Output()
		t.Errorf("no TCP deny event for %s:8000 in the audit log:\n%s", egDenied4, strings.TrimSpace(string(b)))
	}
}
