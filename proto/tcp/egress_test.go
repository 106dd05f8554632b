// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopasst/audit"
	"gopasst/egress"
	"gopasst/policy"
	"gopasst/proto/l2"
)

// TestEgressDeny: a SYN to a denied destination (the real one: the
// gateway maps to the host's loopback) is answered with a RST at once,
// and nothing reaches the host; an allowed connection works, and its
// close event carries the bytes each way.
func TestEgressDeny(t *testing.T) {
	e := newEnv(t, 0)
	allowedLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer allowedLn.Close()
	deniedLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer deniedLn.Close()
	aport := uint16(allowedLn.Addr().(*net.TCPAddr).Port)
	dport := uint16(deniedLn.Addr().(*net.TCPAddr).Port)

	cfg := policy.NewConfig(policy.ModePasta)
	rules, err := policy.ParseRule("tcp:127.0.0.1:" + itoa(dport))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Egress.Deny = rules
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	alog, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	gate := egress.New(cfg, alog)
	e.h.gate = gate

	g := &gconn{e: e, local: netip.AddrPortFrom(guest4, 40000), remote: netip.AddrPortFrom(gw4, dport), seq: 1000, wnd: 0xffff}
	e.tapIn(g.frame(l2.TCPFlagSyn, g.seq, nil))
	frames := e.take() // no poll: the answer is immediate
	if len(frames) != 1 {
		t.Fatalf("%d frames after a denied SYN, want 1 (RST)", len(frames))
	}
	if s := e.parse(frames[0]); s.flags&l2.TCPFlagRst == 0 || s.ack != 1001 {
		t.Fatalf("answer to a denied SYN: flags %v ack %d, want RST acking 1001", s.flags, s.ack)
	}
	if e.h.Len() != 0 || gate.Stats().Denied[0] != 1 || e.h.counts.PolicyRefused != 1 {
		t.Errorf("conns %d, denied %d, refused %d", e.h.Len(), gate.Stats().Denied[0], e.h.counts.PolicyRefused)
	}
	deniedLn.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	if c, err := deniedLn.Accept(); err == nil {
		c.Close()
		t.Fatal("the denied destination got a connection")
	}

	// Allowed: 5 bytes out, 7 back, then the guest resets.
	ag := e.connect(netip.AddrPortFrom(guest4, 40001), netip.AddrPortFrom(gw4, aport))
	sc, err := allowedLn.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ag.send(l2.TCPFlagAck|l2.TCPFlagPsh, []byte("hello"))
	buf := make([]byte, 5)
	sc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(sc, buf); err != nil {
		t.Fatal(err)
	}
	sc.Write([]byte("welcome"))
	d := e.waitSeg("data", func(s seg) bool { return len(s.payload) > 0 })
	ag.ack = d.seq + uint32(len(d.payload))
	ag.send(l2.TCPFlagAck, nil)
	ag.send(l2.TCPFlagRst, nil)
	e.poll(0)
	if err := alog.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var closeEv map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		kinds = append(kinds, m["event"].(string))
		if m["event"] == "close" {
			closeEv = m
		}
	}
	if strings.Join(kinds, ",") != "deny,open,close" {
		t.Fatalf("events %v, want deny,open,close", kinds)
	}
	if closeEv["bytes_from_guest"] != 5.0 || closeEv["bytes_to_guest"] != 7.0 ||
		closeEv["guest"] != "10.0.2.15:40001" || closeEv["host"] != "127.0.0.1:"+itoa(aport) {
		t.Errorf("close event %v", closeEv)
	}
}

// TestEgressMaxFlows: with max_flows tcp=1, a second connection is reset
// like a denied one, and once the first closes a new one opens.
func TestEgressMaxFlows(t *testing.T) {
	e := newEnv(t, 0)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	cfg := policy.NewConfig(policy.ModePasta)
	cfg.Limits.MaxFlows.TCP = 1
	gate := egress.New(cfg, nil)
	e.h.gate = gate
	first := e.connect(netip.AddrPortFrom(guest4, 41000), netip.AddrPortFrom(gw4, port))
	g := &gconn{e: e, local: netip.AddrPortFrom(guest4, 41001), remote: netip.AddrPortFrom(gw4, port), seq: 1, wnd: 0xffff}
	e.tapIn(g.frame(l2.TCPFlagSyn, g.seq, nil))
	if f := e.take(); len(f) != 1 || e.parse(f[0]).flags&l2.TCPFlagRst == 0 {
		t.Fatalf("second flow over max_flows tcp=1: %d frames, want a RST", len(f))
	}
	if gate.Stats().Limited[0] != 1 {
		t.Errorf("limited %v", gate.Stats().Limited)
	}
	first.send(l2.TCPFlagRst, nil)
	e.poll(0)
	e.connect(netip.AddrPortFrom(guest4, 41002), netip.AddrPortFrom(gw4, port))
}
