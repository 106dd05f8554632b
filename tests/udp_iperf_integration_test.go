// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// udpIperfLen is the datagram size: 1400 bytes of payload make 1428-byte
// IPv4 packets, which cross a 1500-byte link unfragmented, as on the
// real paths pasta serves (the tap's 65520 MTU would allow 64 KiB
// datagrams, which measure memcpy, not the per-datagram cost); the bench
// harness uses the same size.
const udpIperfLen = "1400"

// udpIperfBuf is iperf3's -w for the runs that decide pass or fail: the
// sender, pasta and the receiver share two cores here, and the
// receiver's default 212992-byte buffer holds ~2 ms at 1 Gbit/s, so with
// it the loss mostly measures whether the receiving iperf3 was scheduled
// in time. Both implementations get the same options.
const udpIperfBuf = "4M"

// iperfUDPResult is the part of iperf3 --json a UDP client reports.
type iperfUDPResult struct {
	End struct {
		Sum struct {
			BitsPerSecond float64 `json:"bits_per_second"`
			LostPercent   float64 `json:"lost_percent"`
			LostPackets   int64   `json:"lost_packets"`
			Packets       int64   `json:"packets"`
		} `json:"sum"`
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// udpImpl is one pasta under test and the port it forwards (-t and -u).
type udpImpl struct {
	name string
	p    *pastaNs
	port int
}

// TestIntegrationUDPIperf: iperf3 UDP namespace → host (to the mapped
// gateway) and host → namespace (through -u), for gopasst and the C pasta
// (same command line, same run): under 1% loss at 1 Gbit/s, and a ladder
// for the highest rate with under 0.1% loss.
func TestIntegrationUDPIperf(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("iperf3 not installed (CI: apt-get install iperf3)")
	}
	hostNs := udpHostNs(t)
	hostPrefix := []string{"ip", "netns", "exec", hostNs}
	startBG(t, hostCmd(context.Background(), hostNs, "iperf3", "-s", "-p", "5201"))
	waitListening(t, hostPrefix, "-ltn", 5201, 10*time.Second)

	impls := []*udpImpl{{name: "gopasst", port: 5311}}
	if _, err := os.Stat("/usr/bin/pasta"); err == nil {
		impls = append(impls, &udpImpl{name: "pasta-c", port: 5312})
	} else {
		t.Log("no /usr/bin/pasta (package passt): gopasst only")
	}
	for _, im := range impls {
		bin := pastaBin
		if im.name == "pasta-c" {
			bin = "/usr/bin/pasta"
		}
		port := strconv.Itoa(im.port)
		im.p = startPastaNs(t, hostNs, bin, im.name, "-t", port, "-u", port)
		startBG(t, im.p.cmd(context.Background(), "iperf3", "-s", "-p", port))
		waitListening(t, []string{"nsenter", "-t", strconv.Itoa(im.p.holder), "-n", "--"}, "-ltn", im.port, 10*time.Second)
	}

	// run is one iperf3 UDP client run; dir is "ns→host" or "host→ns".
	// A client that hangs in iperf3 3.12's UDP connect (see
	// iperfHang.inUDPConnect) is said and tried once more.
	run := func(t *testing.T, im *udpImpl, dir, rate string, secs int, extra ...string) (iperfUDPResult, error) {
		args := []string{"iperf3", "-u", "-b", rate, "-l", udpIperfLen, "-t", strconv.Itoa(secs), "--json"}
		args = append(args, extra...)
		nsPrefixes := [][]string{hostPrefix, {"nsenter", "-t", strconv.Itoa(im.p.holder), "-n", "--"}}
		label := fmt.Sprintf("%s %s %s", im.name, dir, rate)
		out, hung := runIperfClient(t, label, func() *exec.Cmd {
			if dir == "ns→host" {
				return im.p.cmd(context.Background(), append(args, "-c", uhGw4, "-p", "5201")...)
			}
			return hostCmd(context.Background(), hostNs, append(args, "-c", "127.0.0.1", "-p", strconv.Itoa(im.port))...)
		}, time.Duration(secs+20)*time.Second, true, nsPrefixes...)
		var r iperfUDPResult
		if jerr := json.Unmarshal(out, &r); jerr != nil || r.Error != "" || r.End.Sum.Packets == 0 || hung {
			return r, fmt.Errorf("%s: did not complete: %v %s", label, jerr, r.Error)
		}
		return r, nil
	}
	dirs := []string{"ns→host", "host→ns"}

	// 1 Gbit/s: best of three 3-second runs (the machine is shared), and
	// one run with iperf3's default buffers for the record.
	var report strings.Builder
	fmt.Fprintf(&report, "| path | implementation | loss at 1 Gbit/s, -w %s (best of 3; all) | loss, default buffers |\n|---|---|---|---|\n", udpIperfBuf)
	for _, dir := range dirs {
		for _, im := range impls {
			best, all := 101.0, []string{}
			for range 3 {
				r, err := run(t, im, dir, "1G", 3, "-w", udpIperfBuf)
				if err != nil {
					t.Error(err)
					continue
				}
				all = append(all, fmt.Sprintf("%.2f%%", r.End.Sum.LostPercent))
				best = min(best, r.End.Sum.LostPercent)
				if best == 0 {
					break
				}
			}
			def := "FAIL"
			if r, err := run(t, im, dir, "1G", 3); err == nil {
				def = fmt.Sprintf("%.2f%% (%.3f Gbit/s received)", r.End.Sum.LostPercent, r.End.SumReceived.BitsPerSecond/1e9)
			}
			fmt.Fprintf(&report, "| %s | %s | %.2f%% (%s) | %s |\n", dir, im.name, best, strings.Join(all, ", "), def)
			if im.name == "gopasst" && best >= 1 {
				t.Errorf("gopasst %s: %.2f%% loss at 1 Gbit/s (runs: %s), want < 1%%", dir, best, strings.Join(all, ", "))
			}
		}
	}
	t.Logf("UDP at 1 Gbit/s, -l %s:\n%s", udpIperfLen, report.String())

	if testing.Short() {
		return
	}
	// Ladder: the highest rate with under 0.1% loss (a failing step is
	// tried once more), implementations interleaved at each step.
	rates := []string{"500M", "1G", "1500M", "2G", "3G", "4G", "6G"}
	var ladder strings.Builder
	fmt.Fprintf(&ladder, "| path | implementation | highest rate < 0.1%% loss | received at that rate | first failing rate: loss |\n|---|---|---|---|---|\n")
	for _, dir := range dirs {
		best := map[string]string{}
		bestRx := map[string]float64{}
		failed := map[string]string{}
		for _, rate := range rates {
			for _, im := range impls {
				if failed[im.name] != "" {
					continue
				}
				var r iperfUDPResult
				var err error
				ok := false
				for range 2 {
					if r, err = run(t, im, dir, rate, 2, "-w", udpIperfBuf); err == nil && r.End.Sum.LostPercent < 0.1 {
						ok = true
						break
					}
				}
				switch {
				case ok:
					best[im.name], bestRx[im.name] = rate, r.End.SumReceived.BitsPerSecond/1e9
				case err != nil:
					failed[im.name] = rate + ": " + err.Error()
				default:
					failed[im.name] = fmt.Sprintf("%s: %.2f%% (%.3f Gbit/s received)", rate, r.End.Sum.LostPercent, r.End.SumReceived.BitsPerSecond/1e9)
				}
			}
		}
		for _, im := range impls {
			if best[im.name] == "" {
				best[im.name] = "none"
			}
			if failed[im.name] == "" {
				failed[im.name] = "none up to " + rates[len(rates)-1]
			}
			fmt.Fprintf(&ladder, "| %s | %s | %s | %.3f Gbit/s | %s |\n", dir, im.name, best[im.name], bestRx[im.name], failed[im.name])
		}
	}
	t.Logf("UDP ladder, -l %s -w %s, 2 s per step:\n%s", udpIperfLen, udpIperfBuf, ladder.String())
}
