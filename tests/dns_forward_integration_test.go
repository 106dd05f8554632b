// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The name the test responder knows, and its records.
const dnsTestName = "gopasst-test.example"

var (
	dnsTestA    = netip.MustParseAddr("192.0.2.77")
	dnsTestAAAA = netip.MustParseAddr("2001:db8::77")
)

// TestIntegrationDNSForward: in a pasta namespace, dig asks the
// --dns-forward address (169.254.1.1, fd00:53::1) and gets the answer of
// the responder on the host's loopback (--dns-host 127.0.0.1, ::1),
// port 53, over UDP and TCP. The "host" is a namespace of the test's own,
// so port 53 is free.
func TestIntegrationDNSForward(t *testing.T) {
	requireRoot(t)
	hostNs := udpHostNs(t)
	names := map[string][]netip.Addr{dnsTestName: {dnsTestA, dnsTestAAAA}}
	r4 := startDNSResponder(t, hostNsPath(hostNs), netip.MustParseAddrPort("127.0.0.1:53"), names)
	r6 := startDNSResponder(t, hostNsPath(hostNs), netip.MustParseAddrPort("[::1]:53"), names)
	p := startPastaNs(t, hostNs, pastaBin, "gopasst",
		"--dns-forward", "169.254.1.1", "--dns-host", "127.0.0.1",
		"--dns-forward", "fd00:53::1", "--dns-host", "::1")

	tests := []struct {
		name   string
		server string
		tr     string // +notcp or +tcp
		qtype  string
		want   string
		resp   *dnsResponder
	}{
		{"udp4 A", "169.254.1.1", "+notcp", "A", dnsTestA.String(), r4},
		{"udp4 AAAA", "169.254.1.1", "+notcp", "AAAA", dnsTestAAAA.String(), r4},
		{"tcp4 A", "169.254.1.1", "+tcp", "A", dnsTestA.String(), r4},
		{"tcp4 AAAA", "169.254.1.1", "+tcp", "AAAA", dnsTestAAAA.String(), r4},
		{"udp6 A", "fd00:53::1", "+notcp", "A", dnsTestA.String(), r6},
		{"tcp6 AAAA", "fd00:53::1", "+tcp", "AAAA", dnsTestAAAA.String(), r6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			udp0, tcp0 := tt.resp.udp.Load(), tt.resp.tcp.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			out, err := p.cmd(ctx, "dig", tt.tr, "+short", "+time=3", "+tries=2",
				"@"+tt.server, dnsTestName, tt.qtype).CombinedOutput()
			got := strings.TrimSpace(string(out))
			if err != nil || got != tt.want {
				t.Fatalf("dig %s @%s %s: %v: %q, want %q", tt.tr, tt.server, tt.qtype, err, got, tt.want)
			}
			udp1, tcp1 := tt.resp.udp.Load(), tt.resp.tcp.Load()
			if tt.tr == "+tcp" && (tcp1 == tcp0 || udp1 != udp0) || tt.tr == "+notcp" && (udp1 == udp0 || tcp1 != tcp0) {
				t.Errorf("responder answered udp %d→%d tcp %d→%d for %s", udp0, udp1, tcp0, tcp1, tt.tr)
			}
		})
	}

	t.Run("nxdomain", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		out, err := p.cmd(ctx, "dig", "+notcp", "+time=3", "+tries=2", "@169.254.1.1", "nope."+dnsTestName, "A").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "status: NXDOMAIN") {
			t.Errorf("dig: %v:\n%s", err, out)
		}
	})
}
