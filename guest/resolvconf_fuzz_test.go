// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import (
	"strings"
	"testing"
)

// FuzzReadResolvConf: any resolv.conf parses without panic, and every
// resolver returned is a valid address.
func FuzzReadResolvConf(f *testing.F) {
	f.Add("nameserver 192.0.2.53\nsearch example.test lab.test\n")
	f.Add("nameserver fe80::1%eth0\nnameserver ::1\noptions edns0\n")
	f.Add("domain example.test\n# comment\n;comment\nnameserver\n")
	f.Add("nameserver 999.1.1.1\nsearch\n")
	f.Fuzz(func(t *testing.T, src string) {
		resolvers, _, err := ReadResolvConf(strings.NewReader(src))
		if err != nil {
			return
		}
		for _, a := range resolvers {
			if !a.IsValid() {
				t.Fatalf("invalid resolver in %q", src)
			}
		}
	})
}
