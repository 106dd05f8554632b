// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"gopasst/policy"
	"gopasst/proto/l2"
)

// TestListenUnlisten opens a listener at run time (auto forwarding), sees
// a connection to it become a SYN to the guest, closes it again, and checks
// that a second Listen reuses the freed slot.
func TestListenUnlisten(t *testing.T) {
	e := newEnv(t, 16)
	lo := netip.MustParseAddr("127.0.0.1")
	if err := e.h.Listen(policy.Listener{Bind: lo, ToPort: 8080}); err != nil {
		t.Fatal(err)
	}
	port := e.h.ListenPorts()[0]
	if !e.h.Bound(port) {
		t.Fatalf("Bound(%d) = false after Listen", port)
	}
	go dialQuiet("127.0.0.1", port)
	syn := e.waitSeg("SYN", hasFlags(l2.TCPFlagSyn))
	if syn.dst.Port() != 8080 {
		t.Fatalf("SYN to port %d, want 8080", syn.dst.Port())
	}

	if err := e.h.Unlisten(port); err != nil {
		t.Fatal(err)
	}
	if e.h.Bound(port) {
		t.Fatalf("Bound(%d) = true after Unlisten", port)
	}
	if err := e.h.Unlisten(port); err == nil {
		t.Fatal("second Unlisten of the same port did not fail")
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(port)), time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("port %d still accepts connections after Unlisten", port)
	}

	if err := e.h.Listen(policy.Listener{Bind: lo, ToPort: 9090}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.h.listeners); n != 1 {
		t.Fatalf("%d listener slots after reuse, want 1", n)
	}
	port2 := e.h.ListenPorts()[0]
	go dialQuiet("127.0.0.1", port2)
	syn = e.waitSeg("SYN on the reused slot", hasFlags(l2.TCPFlagSyn))
	if syn.dst.Port() != 9090 {
		t.Fatalf("SYN to port %d, want 9090", syn.dst.Port())
	}
}
