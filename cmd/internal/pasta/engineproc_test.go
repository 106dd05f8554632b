// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"testing"

	"gopasst/guest"
)

func TestTapName(t *testing.T) {
	host := func(v4, v6 string) guest.HostInfo {
		return guest.HostInfo{V4: guest.HostFamily{Ifname: v4}, V6: guest.HostFamily{Ifname: v6}}
	}
	tests := []struct {
		name string
		want string // -I
		host guest.HostInfo
		out  string
	}{
		{name: "-I wins", want: "ns0", host: host("eth0", "eth1"), out: "ns0"},
		{name: "host's IPv4 interface", host: host("eth0", "eth1"), out: "eth0"},
		{name: "host's IPv6 interface", host: host("", "wlan0"), out: "wlan0"},
		{name: "no template interface", host: host("", ""), out: "tap0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tapName(tt.want, tt.host); got != tt.out {
				t.Errorf("tapName(%q) = %q, want %q", tt.want, got, tt.out)
			}
		})
	}
}
