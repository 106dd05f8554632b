// SPDX-License-Identifier: GPL-2.0-or-later

package egress

import (
	"bufio"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopasst/audit"
	"gopasst/policy"
)

var (
	guestEnd = netip.MustParseAddrPort("10.0.2.15:40000")
	allowed  = netip.MustParseAddrPort("192.0.2.1:80")
	denied   = netip.MustParseAddrPort("10.202.0.1:80")
)

func TestGateDenyAndLimits(t *testing.T) {
	c := policy.NewConfig(policy.ModePasta)
	c.Egress.Deny = rules(t, "10.202.0.0/24")
	c.Limits.MaxFlows.TCP = 2
	c.Limits.FlowRate.UDP = 3
	g := New(c, nil)
	now := int64(time.Hour)

	if g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, denied, now) {
		t.Error("denied flow opened")
	}
	if !g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, now) ||
		!g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, now) {
		t.Fatal("allowed flows refused")
	}
	if g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, now) {
		t.Error("third TCP flow over max_flows tcp=2 opened")
	}
	if !g.Open(policy.ProtoTCP, audit.Inbound, guestEnd, denied, now) {
		t.Error("inbound flow refused: inbound is not egress")
	}
	g.Close(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, now, now, 0, 0)
	if !g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, now) {
		t.Error("flow refused after one closed")
	}
	for i := range 3 {
		if !g.Open(policy.ProtoUDP, audit.Outbound, guestEnd, allowed, now) {
			t.Fatalf("UDP flow %d of a burst of 3 refused", i)
		}
	}
	if g.Open(policy.ProtoUDP, audit.Outbound, guestEnd, allowed, now) {
		t.Error("fourth UDP flow in the same instant passed flow_rate udp=3/s")
	}
	if !g.Open(policy.ProtoUDP, audit.Outbound, guestEnd, allowed, now+int64(400*time.Millisecond)) {
		t.Error("UDP flow refused 400 ms later (one token per 333 ms)")
	}
	st := g.Stats()
	want := Stats{Denied: [3]uint64{1, 0, 0}, Limited: [3]uint64{1, 1, 0}, Open: [3]uint64{2, 4, 0}}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	var nilGate *Gate
	if !nilGate.Open(policy.ProtoTCP, audit.Outbound, guestEnd, denied, now) {
		t.Error("nil gate refuses")
	}
}

func TestGateAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := policy.NewConfig(policy.ModePasta)
	c.Egress.Deny = rules(t, "10.202.0.0/24")
	g := New(c, l)
	g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, denied, 1)
	g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, 1)
	g.Close(policy.ProtoTCP, audit.Outbound, guestEnd, allowed, 1, 1+int64(time.Millisecond), 5, 7)
	if err := l.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	if len(got) != 3 {
		t.Fatalf("%d events, want 3: %v", len(got), got)
	}
	if got[0]["event"] != "deny" || got[0]["rule"] != "10.202.0.0/24" || got[0]["host"] != "10.202.0.1:80" {
		t.Errorf("deny event: %v", got[0])
	}
	if got[1]["event"] != "open" || got[1]["rule"] != nil || got[1]["dir"] != "outbound" {
		t.Errorf("open event: %v", got[1])
	}
	if got[2]["event"] != "close" || got[2]["bytes_from_guest"] != 5.0 || got[2]["bytes_to_guest"] != 7.0 ||
		got[2]["duration_ns"] != float64(time.Millisecond) {
		t.Errorf("close event: %v", got[2])
	}
}

func TestGateAllocs(t *testing.T) {
	l := audit.New(devNull(t), 1<<16)
	defer l.Close(time.Second)
	c := policy.NewConfig(policy.ModePasta)
	c.Egress.Deny = rules(t, "10.202.0.0/24")
	g := New(c, l)
	if n := testing.AllocsPerRun(1000, func() {
		g.Open(policy.ProtoTCP, audit.Outbound, guestEnd, denied, 1)
		g.Open(policy.ProtoUDP, audit.Outbound, guestEnd, allowed, 1)
		g.Close(policy.ProtoUDP, audit.Outbound, guestEnd, allowed, 1, 2, 3, 4)
	}); n != 0 {
		t.Errorf("Open/Close with an audit log allocate %v per run", n)
	}
}

func devNull(t testing.TB) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
