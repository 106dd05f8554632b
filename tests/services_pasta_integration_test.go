// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// svcInjector is run with python3 inside pasta's namespace: it sends 1,000
// malformed frames on the tap (towards pasta) through an AF_PACKET socket:
// 334 with an unknown EtherType, 333 with IHL 3, 333 truncated IPv4.
const svcInjector = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
eth = b'\x9a\x55\x9a\x55\x9a\x55' + b'\x52\x54\x00\x00\x00\x01'
for i in range(1000):
    k = i % 3
    if k == 0:
        f = eth + b'\x88\xb5' + b'x' * 46
    elif k == 1:
        f = eth + b'\x08\x00' + b'\x43' + b'\x00' * 19
    else:
        f = eth + b'\x08\x00' + b'\x45\x00'
    s.send(f)
`

// TestIntegrationServicesPastaStats runs the pasta binary with --stats 1:
// ping through it, inject 1,000 malformed frames from inside the
// namespace, ping again, and read the drop counters from the last stats
// line pasta logs.
func TestIntegrationServicesPastaStats(t *testing.T) {
	requireRoot(t)
	svcPingGroups(t)
	script := `set -e
dev=$(ip -4 route show default | awk '{print $5; exit}')
gw=$(ip -4 route show default | awk '{print $3; exit}')
ping -n -c 3 -i 0.2 -W 1 "$gw"
python3 -c "$INJECT" "$dev"
ping -n -c 3 -i 0.2 -W 1 "$gw"
sleep 1.5
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pastaBin, "--stats", "1", "--config-net", "--", "sh", "-c", script)
	cmd.Env = append(cmd.Environ(), "INJECT="+svcInjector)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pasta: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "3 packets transmitted, 3 received"); n != 2 {
		t.Fatalf("%d of 2 pings fully answered:\n%s", n, out)
	}
	lines := regexp.MustCompile(`stats: [^"\n]*`).FindAllString(string(out), -1)
	if len(lines) == 0 {
		t.Fatalf("no stats line in pasta's output:\n%s", out)
	}
	last := lines[len(lines)-1]
	want := map[string]string{"truncated": "333", "ethertype": "334", "bad_l3": "333"}
	for k, v := range want {
		m := regexp.MustCompile(`\b` + k + `=(\d+)`).FindStringSubmatch(last)
		if m == nil || m[1] != v {
			t.Errorf("%s in the last stats line: got %v, want %s", k, m, v)
		}
	}
	d := regexp.MustCompile(`dropped=(\d+)`).FindStringSubmatch(last)
	if d == nil || svcAtou(d[1]) < 1000 {
		t.Errorf("dropped in the last stats line: %v, want at least 1000", d)
	}
	t.Log(last)
}
