// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// TestIntegrationPastaUDPAuto: with -u auto (and with pasta's default,
// no -u at all), a UDP service started in the namespace after pasta is
// reachable from the host, on its address and its loopback, within 2 s;
// with -U auto a UDP service started on the host's loopback is reachable
// from the namespace's loopback within 2 s.
func TestIntegrationPastaUDPAuto(t *testing.T) {
	const port = 5341
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"-u auto -U auto", []string{"-u", "auto", "-U", "auto"}},
		{"default", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostNs := udpHostNs(t)
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", tc.args...)
			hostSock := udpNsSocket(t, hostNsPath(hostNs))
			nsSock := udpNsSocket(t, p.nsPath())

			// Namespace service → host.
			start := time.Now()
			startBG(t, p.cmd(context.Background(), echodBin(t), "-udp", strconv.Itoa(port)))
			var d time.Duration
			for _, a := range []string{uhAddr4, "127.0.0.1", "::1"} {
				dst := netip.AddrPortFrom(netip.MustParseAddr(a), port)
				c := nsUDPConn(t, hostSock, dst)
				err := udpExchange(c, []byte("auto from the host via "+a), 20, 100*time.Millisecond)
				c.Close()
				if err != nil {
					t.Errorf("namespace service via host %v: %v", dst, err)
				}
				if d == 0 {
					d = time.Since(start) // first answer: the listener is there
				}
			}
			if d > 2*time.Second+200*time.Millisecond {
				t.Errorf("namespace service reachable from the host only after %v", d)
			} else {
				t.Logf("namespace service reachable from the host after %v", d.Round(time.Millisecond))
			}

			// Host service → namespace.
			start = time.Now()
			startBG(t, hostCmd(context.Background(), hostNs, echodBin(t), "-udp", strconv.Itoa(port+1)))
			dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port+1)
			c := nsUDPConn(t, nsSock, dst)
			err := udpExchange(c, []byte("auto from the namespace"), 20, 100*time.Millisecond)
			c.Close()
			if err != nil {
				t.Errorf("host service via namespace %v: %v", dst, err)
			} else if d := time.Since(start); d > 2*time.Second+500*time.Millisecond {
				t.Errorf("host service reachable from the namespace only after %v", d)
			} else {
				t.Logf("host service reachable from the namespace after %v", d.Round(time.Millisecond))
			}
		})
	}
}
