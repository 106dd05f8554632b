// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopasst/audit"
	"gopasst/egress"
	"gopasst/flow/flowtest"
	"gopasst/policy"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// TestEgressDeny: an echo request to a denied real destination (the
// mapped host loopback) opens no socket and is answered with destination
// unreachable, "administratively prohibited", quoting the request.
func TestEgressDeny(t *testing.T) {
	cfg := policy.NewConfig(policy.ModePasta)
	for _, s := range []string{"icmp:127.0.0.1", "icmp:::1"} {
		r, err := policy.ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Egress.Deny = append(cfg.Egress.Deny, r...)
	}
	for _, tc := range []struct {
		name  string
		req   []byte
		check func(testing.TB, []byte, ...l2test.NetworkChecker) *l2.Frame
		icmp  l2test.NetworkChecker
	}{
		{"ipv4", l2test.Echo4(guestV4, hostLoV4, 7, 1, []byte("ping")), l2test.IPv4,
			l2test.ICMPv4(l2test.ICMPType(3), l2test.ICMPCode(13))},
		{"ipv6", l2test.Echo6(guestV6, hostLoV6, 7, 1, []byte("ping")), l2test.IPv6,
			l2test.ICMPv6(l2test.ICMPType(1), l2test.ICMPCode(1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := flowtest.NewPoller(t)
			tap := &flowtest.Tap{}
			gate := egress.New(cfg, nil)
			h, err := New(Config{Net: testNet(), Poller: p, Tap: tap, Capacity: 4, Gate: gate})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(h.Close)
			f := parse(t, tc.req)
			h.HandleTap(f, 1)
			if len(tap.Frames) != 1 {
				t.Fatalf("%d frames, want 1", len(tap.Frames))
			}
			tc.check(t, tap.Frames[0], l2test.SrcAddr(f.Dst), l2test.DstAddr(f.Src), tc.icmp)
			if h.Len() != 0 || len(p.Live) != 0 || h.counts.Refused != 1 || gate.Stats().Denied[2] != 1 {
				t.Errorf("flows %d, fds %d, refused %d, denied %v", h.Len(), len(p.Live), h.counts.Refused, gate.Stats().Denied)
			}
		})
	}
}

// TestEgressAuditBytes: an echo flow's close event (at its timeout)
// carries the ICMP bytes each way (header and data: 2 x 12).
func TestEgressAuditBytes(t *testing.T) {
	enablePingSockets(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	alog, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p := flowtest.NewPoller(t)
	tap := &flowtest.Tap{}
	h, err := New(Config{Net: testNet(), Poller: p, Tap: tap, Capacity: 4, Gate: egress.New(policy.NewConfig(policy.ModePasta), alog)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	for seq := uint16(1); seq <= 2; seq++ {
		h.HandleTap(parse(t, l2test.Echo4(guestV4, hostLoV4, 9, seq, []byte("ping"))), int64(seq))
		pump(t, h, p, tap, int(seq))
	}
	h.Tick(int64(Timeout) + 10e9)
	if h.Len() != 0 {
		t.Fatal("flow not expired")
	}
	if err := alog.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var ev map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &ev) != nil {
		t.Fatalf("want open and close events:\n%s", data)
	}
	if ev["event"] != "close" || ev["proto"] != "icmp" || ev["bytes_from_guest"] != 24.0 || ev["bytes_to_guest"] != 24.0 ||
		ev["guest"] != "10.0.2.15:9" || ev["host"] != "127.0.0.1" {
		t.Errorf("close event %v", ev)
	}
}
