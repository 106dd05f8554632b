// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"net/netip"
	"sort"
	"strings"
)

// Preset is a named list of prefixes for egress rules ("preset:NAME").
type Preset struct {
	Doc      string
	Prefixes []netip.Prefix
}

// Presets are the named targets of egress rules:
//
//   - metadata: cloud instance metadata services, where a guest could
//     read the host's cloud credentials: 169.254.169.254 (AWS, GCP,
//     Azure, OpenStack, ...), fd00:ec2::254 (AWS IPv6), 100.100.100.200
//     (Alibaba Cloud).
//   - host-loopback: the host's loopback, 127.0.0.0/8 and ::1, which the
//     guest reaches through the gateway address (unless --no-map-gw) or
//     --map-host-loopback: rules apply to the real destination.
//   - private: RFC 1918 (10/8, 172.16/12, 192.168/16), IPv4 link-local
//     169.254/16, IPv6 unique local fc00::/7 (RFC 4193) and link-local
//     fe80::/10: the host's LAN and the metadata services.
var Presets = map[string]Preset{
	"metadata": {
		Doc:      "cloud metadata services: 169.254.169.254, fd00:ec2::254, 100.100.100.200",
		Prefixes: prefixes("169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32"),
	},
	"host-loopback": {
		Doc:      "the host's loopback: 127.0.0.0/8, ::1",
		Prefixes: prefixes("127.0.0.0/8", "::1/128"),
	},
	"private": {
		Doc: "RFC 1918, link-local and unique local: 10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10",
		Prefixes: prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
			"fc00::/7", "fe80::/10"),
	},
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func presetNames() string {
	var n []string
	for k := range Presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}
