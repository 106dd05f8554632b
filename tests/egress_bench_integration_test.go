// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationEgressSetupRate measures TCP flow setup (connect, then
// close) per second from a pasta namespace to the private host, with no
// egress rules and with 1,000 deny prefixes (none matching), and prints
// both rates and their ratio. It is a benchmark for a quiet machine: it
// runs only with GOPASST_EGRESS_BENCH=SECONDS (the time per round; see
// bench/egress-setup-rate.sh), and checks nothing but that it ran.
func TestIntegrationEgressSetupRate(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("GOPASST_EGRESS_BENCH"))
	if secs <= 0 {
		t.Skip("set GOPASST_EGRESS_BENCH=SECONDS to run (bench/egress-setup-rate.sh)")
	}
	requireRoot(t)
	var b strings.Builder
	b.WriteString("[egress]\ndeny = [\n")
	for i := range 1000 { // 10.100.0.0/16 .. 10.103.x.y/32: a spread of host routes
		fmt.Fprintf(&b, "  \"10.%d.%d.%d/32\",\n", 100+i%4, (i*37)%256, (i*101)%256)
	}
	b.WriteString("]\n")
	conf := filepath.Join(t.TempDir(), "deny1000.toml")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"-t", "none", "-u", "none", "-T", "none", "-U", "none"}
	// Each round gets a fresh private host: the TIME_WAIT sockets of one
	// round must not slow the next one's connects.
	rate := func(label string, args ...string) float64 {
		host := newEgressHost(t)
		go func() { // close what the allowed server accepts
			for c := range host.accepted[egAllowed4] {
				c.Close()
			}
		}()
		p := startPastaNs(t, host.ns, pastaBin, label, append(append([]string{}, base...), args...)...)
		ns := udpNsSocket(t, p.nsPath())
		for range 50 { // warm up
			if c, err, _ := egressDial(t, ns, egAllowed4, egPort); err == nil {
				c.Close()
			}
		}
		n, fails := 0, 0
		start := time.Now()
		for time.Since(start) < time.Duration(secs)*time.Second {
			c, err, _ := egressDial(t, ns, egAllowed4, egPort)
			if err != nil {
				fails++
				continue
			}
			c.Close()
			n++
		}
		r := float64(n) / time.Since(start).Seconds()
		t.Logf("%s: %d connect/close in %ds, %d failed: %.0f/s", label, n, secs, fails, r)
		return r
	}
	// Alternate, twice each, so that drift on the machine shows.
	var none, deny float64
	for range 2 {
		none += rate("no-rules") / 2
		deny += rate("deny-1000", "--config", conf) / 2
	}
	fmt.Printf("egress flow setup: no rules %.0f/s, 1000 deny prefixes %.0f/s, ratio %.3f\n", none, deny, deny/none)
}
