// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestIntegrationPastaUDPIperfInbound: iperf3 -u from the host into the
// namespace through -t/-u forwards completes, at -b 1G and -b 0, from the
// host's address (through the tap) and from 127.0.0.1 (spliced), with
// iperf3's default datagram length (above a 1500-byte MTU: fragmented)
// and with -l 1400. It prints the received rate; figures on this shared
// machine are for the record, the lead compares them with upstream's in
// a quiet window.
func TestIntegrationPastaUDPIperfInbound(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Fatal("iperf3 not installed (./dev deps installs it)")
	}
	const port = 5331
	hostNs := udpHostNs(t)
	p := startPastaNs(t, hostNs, pastaBin, "gopasst", "-t", strconv.Itoa(port), "-u", strconv.Itoa(port), "-m", "1500")
	startBG(t, p.cmd(context.Background(), "iperf3", "-s", "-p", strconv.Itoa(port)))
	waitListening(t, []string{"nsenter", "-t", strconv.Itoa(p.holder), "-n", "--"}, "-ltn", port, 10*time.Second)
	for _, dst := range []string{uhAddr4, "127.0.0.1"} {
		for _, rate := range []string{"1G", "0"} {
			for _, length := range []string{"", "1400"} {
				name := fmt.Sprintf("%s -b %s -l %s", dst, rate, length)
				if length == "" {
					name = fmt.Sprintf("%s -b %s default length", dst, rate)
				}
				args := []string{"iperf3", "-u", "-b", rate, "-t", "2", "--json", "-c", dst, "-p", strconv.Itoa(port)}
				if length != "" {
					args = append(args, "-l", length)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				out, err := hostCmd(ctx, hostNs, args...).Output()
				timedOut := ctx.Err() != nil
				cancel()
				var r iperfUDPResult
				if jerr := json.Unmarshal(out, &r); jerr != nil || r.Error != "" || r.End.Sum.Packets == 0 || timedOut {
					t.Logf("%s output: %s", name, out[max(0, len(out)-2500):])
					t.Errorf("%s: did not complete: %v %v %s", name, err, jerr, r.Error)
					continue
				}
				recv := r.End.SumReceived.BitsPerSecond
				t.Logf("%s: sent %.0f Mbit/s, received %.0f Mbit/s, loss %.1f%% of %d datagrams",
					name, r.End.Sum.BitsPerSecond/1e6, recv/1e6, r.End.Sum.LostPercent, r.End.Sum.Packets)
			}
		}
	}
}
