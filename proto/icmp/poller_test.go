// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// enablePingSockets widens net.ipv4.ping_group_range for the test and
// restores it afterwards. It skips the test when that is not possible.
func enablePingSockets(t testing.TB) {
	t.Helper()
	const path = "/proc/sys/net/ipv4/ping_group_range"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("cannot read %s: %v", path, err)
	}
	if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP); err == nil {
		unix.Close(fd)
		return // already allowed
	}
	if os.Geteuid() != 0 {
		t.Skip("ping sockets not allowed and not root")
	}
	if err := os.WriteFile(path, []byte("0 2147483647"), 0); err != nil {
		t.Skipf("cannot widen %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, old, 0); err != nil {
			t.Errorf("restore %s: %v", path, err)
		}
	})
}
