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

// TestIntegrationPastaUDPSizes: a UDP echo server in the namespace
// answers a host client through -u, from the host's IPv4 and IPv6
// addresses (through the tap) and from 127.0.0.1 and ::1 (spliced), for
// datagrams of 1 to 65,507 bytes, at pasta's default MTU (65520) and at
// -m 1500: datagrams larger than the MTU are fragmented towards the
// namespace and the namespace's fragmented replies reassembled.
func TestIntegrationPastaUDPSizes(t *testing.T) {
	const port = 5321
	sizes := []int{1, 100, 1472, 1473, 1500, 4000, 9000, 32768, 65480, 65507}
	for _, mtu := range []string{"", "1500"} {
		name := "mtu 65520"
		args := []string{"-u", strconv.Itoa(port)}
		if mtu != "" {
			name, args = "mtu "+mtu, append(args, "-m", mtu)
		}
		t.Run(name, func(t *testing.T) {
			hostNs := udpHostNs(t)
			p := startPastaNs(t, hostNs, pastaBin, "gopasst", args...)
			startBG(t, p.cmd(context.Background(), echodBin(t), "-udp", strconv.Itoa(port)))
			waitListening(t, []string{"nsenter", "-t", strconv.Itoa(p.holder), "-n", "--"}, "-lun", port, 10*time.Second)
			hostSock := udpNsSocket(t, hostNsPath(hostNs))
			for _, a := range []string{uhAddr4, uhAddr6, "127.0.0.1", "::1"} {
				dst := netip.AddrPortFrom(netip.MustParseAddr(a), port)
				c := nsUDPConn(t, hostSock, dst)
				for _, n := range sizes {
					payload := make([]byte, n)
					for i := range payload {
						payload[i] = byte(i*7 + n)
					}
					if err := udpExchange(c, payload, 3, time.Second); err != nil {
						t.Errorf("%v, %d bytes: %v", dst, n, err)
					}
				}
				c.Close()
			}
			if t.Failed() {
				out, _ := p.cmd(context.Background(), "ip", "-s", "link").CombinedOutput()
				t.Logf("namespace links:\n%s", out)
			}
		})
	}
}
