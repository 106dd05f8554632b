// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopasst/netns"
	"gopasst/proto/l2"
)

// Tap offloads (tap.SetOffloads, package tap "Offloads"): pasta at MTU
// 1500 with the namespace's kernel handing it 64 KiB TCP segments and
// taking them back, seen on the stats line (tap_gso_in, tap_gso_out,
// bytes per frame); with GOPASST_TAP_OFFLOAD=off,
// today's plain tap, 1500-byte frames. Data crosses both ways, hashed.

// offloadRun starts pasta -m 1500 with a -t port, moves size bytes from
// the namespace to the host and from the host into the namespace, checks
// both hashes, and returns the last stats line's fields and the
// namespace's IPv4 address.
func offloadRun(t *testing.T, name string, size int64, extra ...string) (map[string]uint64, string) {
	t.Helper()
	fwdPort := freePort(t)
	args := append([]string{"-m", "1500", "-t", strconv.Itoa(fwdPort), "-T", "none"}, extra...)
	n, log := startStatsNet(t, fmt.Sprintf("%s%d", name, os.Getpid()), args...)
	out, err := n.exec(t, 5*time.Second, "cat", "/sys/class/net/"+n.ifname+"/mtu")
	if err != nil || strings.TrimSpace(string(out)) != "1500" {
		t.Fatalf("tap MTU in the namespace: %q, %v", out, err)
	}
	vs := tcpVariants(n, fwdPort)
	for _, v := range []tcpVariant{vs[0], vs[2]} { // ns → host, host → ns (IPv4)
		t.Run(v.name, func(t *testing.T) {
			l := v.listen(t)
			tcpTransfer(t, l, func() (net.Conn, error) { return v.dial(t) }, size, 30*time.Second, n.diag)
		})
	}
	// The stats line of the second after the transfers.
	time.Sleep(1100 * time.Millisecond)
	m := waitStatsLog(t, log, 5*time.Second, func(m map[string]uint64) bool { return m["tcp_opens"] >= 2 })
	t.Logf("frames_in=%d bytes_in=%d frames_out=%d bytes_out=%d tap_gso_in=%d tap_gso_out=%d tap_csum_done=%d tap_bad_segments=%d tcp_retrans=%d",
		m["frames_in"], m["bytes_in"], m["frames_out"], m["bytes_out"], m["tap_gso_in"], m["tap_gso_out"], m["tap_csum_done"], m["tap_bad_segments"], m["tcp_retrans"])
	return m, n.addr4
}

// TestIntegrationTapOffload: at MTU 1500, 64 MiB each way. With offloads
// (the default) most of the bytes cross the tap in frames larger than
// 1514 bytes in both directions, counted as GSO frames; with
// GOPASST_TAP_OFFLOAD=off none does, and every frame fits the MTU; a
// value other than on or off is refused at start.
func TestIntegrationTapOffload(t *testing.T) {
	const size = 64 << 20
	t.Run("offload", func(t *testing.T) {
		m, _ := offloadRun(t, "gpoffl", size)
		if m["tap_gso_in"] == 0 || m["tap_gso_out"] == 0 || m["tap_bad_segments"] != 0 {
			t.Fatalf("tap_gso_in=%d tap_gso_out=%d tap_bad_segments=%d: the offload path was not used",
				m["tap_gso_in"], m["tap_gso_out"], m["tap_bad_segments"])
		}
		// Each way at least 64 MiB, in frames of 4 KiB or more on average.
		for _, d := range []string{"in", "out"} {
			if f, b := m["frames_"+d], m["bytes_"+d]; b < size || b/max(f, 1) < 4096 {
				t.Fatalf("%s: %d bytes in %d frames: not segments larger than the MTU", d, b, f)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Setenv(netns.TapOffloadEnv, "off")
		m, _ := offloadRun(t, "gpoffo", size)
		if m["tap_gso_in"] != 0 || m["tap_gso_out"] != 0 || m["tap_csum_done"] != 0 {
			t.Fatalf("tap_gso_in=%d tap_gso_out=%d tap_csum_done=%d with %s=off",
				m["tap_gso_in"], m["tap_gso_out"], m["tap_csum_done"], netns.TapOffloadEnv)
		}
		for _, d := range []string{"in", "out"} {
			if f, b := m["frames_"+d], m["bytes_"+d]; b < size || b/max(f, 1) > 1514 {
				t.Fatalf("%s: %d bytes in %d frames: larger than the MTU without offloads", d, b, f)
			}
		}
	})
	t.Run("bad_value", func(t *testing.T) {
		t.Setenv(netns.TapOffloadEnv, "maybe")
		_, errOut, st := runPasta(t, nil, nil, "--config-net", "--", "true")
		if st == 0 || !strings.Contains(string(errOut), netns.TapOffloadEnv) {
			t.Fatalf("status %d, stderr %q: want a refusal naming %s", st, errOut, netns.TapOffloadEnv)
		}
	})
}

// TestIntegrationTapOffloadPcap: with --pcap at MTU 1500 and offloads, the
// capture holds the TCP frames larger than the MTU as they crossed the
// tap, both ways, each with a correct checksum (finished for the
// capture only).
func TestIntegrationTapOffloadPcap(t *testing.T) {
	capture := filepath.Join(t.TempDir(), "offload.pcap")
	m, addr4 := offloadRun(t, "gpoffp", 4<<20, "--pcap", capture)
	if m["tap_gso_in"] == 0 || m["tap_gso_out"] == 0 {
		t.Fatalf("tap_gso_in=%d tap_gso_out=%d", m["tap_gso_in"], m["tap_gso_out"])
	}
	b, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("capture of %d bytes", len(b))
	}
	large := map[bool]int{} // by direction: from the namespace (its address as source) or to it
	bad := 0
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		orig := int(binary.LittleEndian.Uint32(b[off+12:]))
		off += 16
		if off+incl > len(b) {
			t.Fatalf("record cut at %d", off)
		}
		fr := b[off : off+incl]
		off += incl
		if incl != orig || incl <= 1514 {
			continue
		}
		var f l2.Frame
		if f.Parse(fr) != nil || f.L4Proto != l2.ProtoTCP {
			continue
		}
		if !f.L4ChecksumValid() {
			bad++
		}
		large[f.Src.String() == addr4]++
	}
	t.Logf("TCP frames larger than 1514 bytes in the capture: %d to the host side, %d to the guest, %d with a wrong checksum", large[true], large[false], bad)
	if large[true] == 0 || large[false] == 0 || bad != 0 {
		t.Fatal("the capture does not show checksum-correct segments larger than the MTU both ways")
	}
}
