// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopasst/audit"
	"gopasst/egress"
	"gopasst/policy"
	"gopasst/proto/l2/l2test"
)

func gateDenying(t *testing.T, specs ...string) *egress.Gate {
	t.Helper()
	cfg := policy.NewConfig(policy.ModePasta)
	for _, s := range specs {
		r, err := policy.ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Egress.Deny = append(cfg.Egress.Deny, r...)
	}
	return egress.New(cfg, nil)
}

// TestEgressDeny: a datagram to a denied real destination (the mapped
// host loopback) is not sent: the guest gets ICMP "administratively
// prohibited" quoting it; an allowed one goes through and its echo comes
// back.
func TestEgressDeny(t *testing.T) {
	denied := newServer(t, lo4, true)
	allowed := newServer(t, lo4, true)
	gate := gateDenying(t, "udp:127.0.0.1:"+itoa(denied.addr.Port()))
	e := newEnv(t, Config{Gate: gate})
	frame := l2test.UDP4(ap(guestV4, 33000), ap(hostLoV4, denied.addr.Port()), []byte("secret"))
	e.tapFrame(t, frame, 1)
	if len(e.tap.Frames) != 1 {
		t.Fatalf("%d frames after a denied datagram, want 1", len(e.tap.Frames))
	}
	f := l2test.IPv4(t, e.tap.Frames[0], l2test.SrcAddr(hostLoV4), l2test.DstAddr(guestV4),
		l2test.ICMPv4(l2test.ICMPType(3), l2test.ICMPCode(13)))
	if q := f.Raw[f.L4+8 : f.End]; len(q) != 20+8+6 {
		t.Errorf("quote of %d bytes, want the whole datagram (34)", len(q))
	}
	if e.h.Len() != 0 || e.h.Counts().Drops[DropRefused] != 1 || gate.Stats().Denied[1] != 1 {
		t.Errorf("flows %d, refused %d, denied %d", e.h.Len(), e.h.Counts().Drops[DropRefused], gate.Stats().Denied[1])
	}
	select {
	case p := <-denied.peers:
		t.Fatalf("the denied server got a datagram from %v", p)
	case <-time.After(20 * time.Millisecond):
	}
	e.tap.Frames = nil
	e.tapFrame(t, l2test.UDP4(ap(guestV4, 33001), ap(hostLoV4, allowed.addr.Port()), []byte("hello")), 1)
	e.pump(t, 1, 1)
	l2test.IPv4(t, e.tap.Frames[0], l2test.SrcAddr(hostLoV4), l2test.UDP(l2test.Payload([]byte("hello"))))
}

// TestEgressDNSRealDestination: the query to the --dns-forward address is
// checked against the resolver it is forwarded to, not the address the
// guest used.
func TestEgressDNSRealDestination(t *testing.T) {
	dnsHost := netip.MustParseAddr("127.53.83.2")
	n := testNet()
	n.V4.DNSForward, n.V4.DNSHost = dnsFwdV4, dnsHost
	query := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'f', 'o', 'o', 0, 0, 1, 0, 1}
	for _, tt := range []struct {
		rule   string
		denied bool
	}{{"udp:127.53.83.2/32:53", true}, {"udp:10.0.2.3/32:53", false}} {
		gate := gateDenying(t, tt.rule)
		e := newEnv(t, Config{Net: n, Gate: gate})
		e.tapFrame(t, l2test.UDP4(ap(guestV4, 33333), ap(dnsFwdV4, 53), query), 0)
		if got := gate.Stats().Denied[1] == 1; got != tt.denied {
			t.Errorf("rule %s: denied %v, want %v", tt.rule, got, tt.denied)
		}
		if tt.denied {
			l2test.IPv4(t, e.tap.Frames[0], l2test.SrcAddr(dnsFwdV4), l2test.ICMPv4(l2test.ICMPType(3), l2test.ICMPCode(13)))
		}
	}
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }

// TestEgressAuditBytes: a flow's close event (at its timeout) carries the
// payload bytes each way: 5 from the guest, echoed back twice as 10.
func TestEgressAuditBytes(t *testing.T) {
	srv := newServer(t, lo4, true)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	alog, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	gate := egress.New(policy.NewConfig(policy.ModePasta), alog)
	e := newEnv(t, Config{Gate: gate, Timeout: time.Second, StreamTimeout: time.Second})
	now := int64(time.Hour)
	for i := range 2 {
		e.tapFrame(t, l2test.UDP4(ap(guestV4, 33002), ap(hostLoV4, srv.addr.Port()), []byte("hello")[:2+i*3]), now)
		e.pump(t, now, i+1)
	}
	e.h.Tick(now + int64(10*time.Second))
	if e.h.Len() != 0 {
		t.Fatalf("flow not expired")
	}
	if err := alog.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d events, want open and close:\n%s", len(lines), data)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &ev); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("127.0.0.1:%d", srv.addr.Port())
	if ev["event"] != "close" || ev["proto"] != "udp" || ev["bytes_from_guest"] != 7.0 || ev["bytes_to_guest"] != 7.0 ||
		ev["guest"] != "10.0.2.15:33002" || ev["host"] != want {
		t.Errorf("close event %v; want 7 bytes each way, guest 10.0.2.15:33002, host %s", ev, want)
	}
}
