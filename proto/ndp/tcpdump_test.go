// SPDX-License-Identifier: GPL-2.0-or-later

package ndp

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopasst/pcap"
	"gopasst/proto/l2"
)

// TestTcpdumpDecodes has an independent decoder, tcpdump, read our
// advertisements: every option must be recognised and the checksum right.
func TestTcpdumpDecodes(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	n := testNet()
	path := filepath.Join(t.TempDir(), "ndp.pcap")
	w, err := pcap.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	build := func(dst netip.Addr, msg []byte) []byte {
		b := make([]byte, l2.EthernetSize+l2.IPv6MinSize+len(msg))
		l2.Ethernet(b).Encode([6]byte(n.GuestMAC), [6]byte(n.OurMAC), l2.EtherTypeIPv6)
		l2.IPv6(b[l2.EthernetSize:]).Encode(&l2.IPv6Fields{
			PayloadLength: uint16(len(msg)), NextHeader: l2.ProtoICMPv6, HopLimit: HopLimit,
			SrcAddr: n.OurLL6, DstAddr: dst,
		})
		copy(b[l2.EthernetSize+l2.IPv6MinSize:], msg)
		return b
	}
	out := make([]byte, MaxMessageSize)
	m := RouterAdvertisement(n, out)
	w.Write(build(AllNodes, out[:m]), time.Unix(1, 0))
	m, dst, ok := Handle(n, HopLimit, guestLL, solNode(remote), ns(guestLL, solNode(remote), remote, true), out)
	if !ok {
		t.Fatal("no NA")
	}
	w.Write(build(dst, out[:m]), time.Unix(2, 0))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(tcpdump, "-r", path, "-nn", "-vv").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, res)
	}
	s := string(res)
	for _, want := range []string{
		"router advertisement",
		"hop limit 255, Flags [managed], pref medium, router lifetime 65535s",
		"prefix info option (3), length 32 (4): 2001:db8:1:2::/64, Flags [onlink, auto], valid time infinity, pref. time infinity",
		"source link-address option (1), length 8 (1): 9a:55:9a:55:9a:55",
		"mtu option (5), length 8 (1):  65520",
		"rdnss option (25), length 24 (3):  lifetime 4294967295s, addr: 2001:db8::53",
		"dnssl option (31), length 40 (5):  lifetime 4294967295s, domain(s): example.com. lab.example.org.",
		"neighbor advertisement, length 32, tgt is 2001:db8:ffff::1, Flags [router, solicited, override]",
		"destination link-address option (2), length 8 (1): 9a:55:9a:55:9a:55",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("tcpdump output lacks %q", want)
		}
	}
	if c := strings.Count(s, "[icmp6 sum ok]"); c != 2 {
		t.Errorf("%d good checksums, want 2", c)
	}
	if strings.Contains(s, "bad") || strings.Contains(s, "unknown") {
		t.Errorf("tcpdump complains")
	}
	if t.Failed() {
		t.Logf("tcpdump output:\n%s", s)
	}
}
