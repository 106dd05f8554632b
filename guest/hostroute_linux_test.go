// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// procDefaultRoute4 reads the IPv4 default route with the lowest metric
// from /proc/net/route, independently of netlink.
func procDefaultRoute4(t *testing.T) (ifname string, gw netip.Addr) {
	t.Helper()
	f, err := os.Open("/proc/net/route")
	if err != nil {
		t.Skipf("no /proc/net/route: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	best := -1
	for s.Scan() {
		fl := strings.Fields(s.Text())
		if len(fl) < 8 || fl[1] != "00000000" || fl[7] != "00000000" {
			continue
		}
		b, err := hex.DecodeString(fl[2])
		if err != nil || len(b) != 4 {
			continue
		}
		metric, _ := strconv.Atoi(fl[6])
		var a [4]byte
		binary.LittleEndian.PutUint32(a[:], binary.BigEndian.Uint32(b))
		if a == [4]byte{} {
			continue
		}
		if best < 0 || metric < best {
			best, ifname, gw = metric, fl[0], netip.AddrFrom4(a)
		}
	}
	return ifname, gw
}

func TestHostInfoFromKernel(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(rc, []byte("nameserver 192.0.2.53\nsearch example.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := ResolvConfPath
	ResolvConfPath = rc
	t.Cleanup(func() { ResolvConfPath = old })

	h, err := HostInfoFromKernel("")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Resolvers) != 1 || h.Resolvers[0] != netip.MustParseAddr("192.0.2.53") || len(h.Search) != 1 {
		t.Errorf("resolv.conf: %v %v", h.Resolvers, h.Search)
	}
	ifname, gw := procDefaultRoute4(t)
	if h.V4.Gateway != gw || h.V4.Ifname != ifname {
		t.Errorf("V4 default route: got %s via %s, /proc/net/route says %s via %s", h.V4.Ifname, h.V4.Gateway, ifname, gw)
	}
	if ifname != "" {
		b, err := os.ReadFile("/sys/class/net/" + ifname + "/mtu")
		if err == nil {
			mtu, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if h.V4.MTU != mtu {
				t.Errorf("MTU %d, sysfs says %d", h.V4.MTU, mtu)
			}
		}
		if !h.V4.Addr.Is4() || h.V4.PrefixLen <= 0 || h.V4.PrefixLen > 32 {
			t.Errorf("V4 address %s/%d", h.V4.Addr, h.V4.PrefixLen)
		}
	}
	if h.V6.Gateway.IsValid() && (!h.V6.Gateway.Is6() || h.V6.Ifname == "") {
		t.Errorf("V6: %+v", h.V6)
	}
	t.Logf("host: %+v", h)

	// With an explicit interface: loopback has no default route.
	lo, err := HostInfoFromKernel("lo")
	if err != nil {
		t.Fatal(err)
	}
	if lo.V4.Gateway.IsValid() || lo.V4.Ifname != "" {
		t.Errorf("lo: %+v", lo.V4)
	}
	if _, err := HostInfoFromKernel("nonexistent0"); err == nil {
		t.Error("nonexistent interface accepted")
	}
	// Resolve works on whatever the host is.
	n, err := Resolve(newTestConfig(), h)
	if err != nil {
		t.Fatal(err)
	}
	if !n.HasV4() {
		t.Errorf("no IPv4 for the guest: %+v", n)
	}
}
