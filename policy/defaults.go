// SPDX-License-Identifier: GPL-2.0-or-later

package policy

// NewConfig returns a Config for mode with every field "not given": the
// zero value, except Netmask and Fd, which use -1 for that, and, as in
// passt, NoDHCPDNS and NoDHCPSearch, which pasta sets by default.
func NewConfig(mode Mode) *Config {
	return &Config{
		Mode: mode, Netmask: -1, Fd: -1,
		NoDHCPDNS: mode == ModePasta, NoDHCPSearch: mode == ModePasta,
	}
}

// Default MTU and bounds, as passt's conf.c: 65520 is the largest 802.3
// MTU rounded down to 32 bits; 68 is the IPv4 minimum (RFC 791).
const (
	DefaultMTU = 65520
	MinMTU     = 68
	MaxMTU     = 65520
)
