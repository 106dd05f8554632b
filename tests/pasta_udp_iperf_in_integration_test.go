// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestIntegrationPastaUDPIperfInbound: iperf3 -u from the host into the
// namespace through -t/-u forwards completes, at -b 1G and -b 0, from the
// host's address (through the tap) and from 127.0.0.1 (spliced), with
// iperf3's default datagram length (above a 1500-byte MTU: fragmented)
// and with -l 1400. It logs the received rates beside upstream pasta
// 2026's in the same run (shared/bench/ref), for the record: only
// gopasst's must complete. A client that hangs is reported with the
// system call it sat in and the sockets of both namespaces; one that
// hangs in iperf3 3.12's UDP connect (a blocking recv with no retry: one
// lost or stray datagram stops it for good) is tried once more.
func TestIntegrationPastaUDPIperfInbound(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Fatal("iperf3 not installed (./dev deps installs it)")
	}
	impls := []struct{ name, bin string }{{"gopasst", pastaBin}}
	if ref := refPasta(t); ref != "" {
		impls = append(impls, struct{ name, bin string }{"upstream-2026", ref})
	}
	recv := map[string]string{} // "impl|case" → "N Mbit/s" or "did not complete"
	var cases []string
	for i, impl := range impls {
		port := 5331 + i
		hostNs := udpHostNs(t)
		p := startPastaNs(t, hostNs, impl.bin, impl.name, "-t", strconv.Itoa(port), "-u", strconv.Itoa(port), "-m", "1500")
		startBG(t, p.cmd(context.Background(), "iperf3", "-s", "-p", strconv.Itoa(port)))
		waitListening(t, []string{"nsenter", "-t", strconv.Itoa(p.holder), "-n", "--"}, "-ltn", port, 10*time.Second)
		for _, dst := range []string{uhAddr4, "127.0.0.1"} {
			for _, rate := range []string{"1G", "0"} {
				for _, length := range []string{"", "1400"} {
					name := fmt.Sprintf("%s -b %s -l %s", dst, rate, length)
					if length == "" {
						name = fmt.Sprintf("%s -b %s default length", dst, rate)
					}
					if i == 0 {
						cases = append(cases, name)
					}
					args := []string{"iperf3", "-u", "-b", rate, "-t", "2", "--json", "-c", dst, "-p", strconv.Itoa(port)}
					if length != "" {
						args = append(args, "-l", length)
					}
					nsPrefixes := [][]string{{"ip", "netns", "exec", hostNs}, {"nsenter", "-t", strconv.Itoa(p.holder), "-n", "--"}}
					out, hung := runIperfClient(t, name, func() *exec.Cmd { return hostCmd(context.Background(), hostNs, args...) },
						20*time.Second, impl.bin == pastaBin, nsPrefixes...)
					var r iperfUDPResult
					if jerr := json.Unmarshal(out, &r); jerr != nil || r.Error != "" || r.End.Sum.Packets == 0 || hung {
						recv[impl.name+"|"+name] = "did not complete"
						if impl.bin != pastaBin {
							continue // upstream's result is only reported
						}
						t.Logf("%s output: %s", name, out[max(0, len(out)-2500):])
						t.Errorf("%s: did not complete: %v %s", name, jerr, r.Error)
						continue
					}
					recv[impl.name+"|"+name] = fmt.Sprintf("%.0f Mbit/s (%.1f%% loss)", r.End.SumReceived.BitsPerSecond/1e6, r.End.Sum.LostPercent)
				}
			}
		}
	}
	// The received rates, side by side (upstream's when ../shared/bench/ref
	// has its build), as one table for the record.
	tbl, sep := "\n| client, rate, datagram length |", "\n|---|"
	for _, impl := range impls {
		tbl, sep = tbl+" "+impl.name+" |", sep+"---|"
	}
	tbl += sep + "\n"
	for _, c := range cases {
		tbl += "| " + c + " |"
		for _, impl := range impls {
			tbl += " " + recv[impl.name+"|"+c] + " |"
		}
		tbl += "\n"
	}
	t.Log("iperf3 -u host→namespace, received (MTU 1500):" + tbl)
}

// refPasta returns a "pasta" link to upstream's 2026 build in
// shared/bench/ref (beside the repository, as CI lays it out, or
// /work/shared), for comparisons only; "" when it is not there.
func refPasta(t *testing.T) string {
	bin := refPasst()
	if bin == "" {
		return ""
	}
	link := filepath.Join(t.TempDir(), "pasta")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	return link
}
