// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Value parsers shared by Load and the command line (package conf). Each
// returns an error without the option name; callers add it.

// ParseMTU parses an MTU: 0 (do not advertise) or MinMTU..MaxMTU.
func ParseMTU(s string) (int, error) {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid MTU %q", s)
	}
	if err := CheckMTU(int(n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// CheckMTU checks an MTU value: 0 or MinMTU..MaxMTU.
func CheckMTU(n int) error {
	if n != 0 && (n < MinMTU || n > MaxMTU) {
		return fmt.Errorf("MTU %d out of range %d..%d", n, MinMTU, MaxMTU)
	}
	return nil
}

// ParseGuestAddress parses -a: ADDR or ADDR/PLEN. A bare address gets
// prefix length -1 (netip.PrefixFrom(addr, -1)): Prefix.Addr still returns
// it, and Bits is -1 until -n or the host supplies one. The address must be
// unicast and not loopback, as in passt's conf_addr().
func ParseGuestAddress(s string) (netip.Prefix, error) {
	as, ls, hasLen := strings.Cut(s, "/")
	a, err := netip.ParseAddr(as)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid guest address %q", s)
	}
	a = a.Unmap()
	if a.IsLoopback() || a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Prefix{}, fmt.Errorf("invalid guest address %q", s)
	}
	if !hasLen {
		return netip.PrefixFrom(a, -1), nil
	}
	n, err := strconv.ParseUint(ls, 10, 8)
	if err != nil || int(n) > a.BitLen() {
		return netip.Prefix{}, fmt.Errorf("invalid prefix length in %q", s)
	}
	return netip.PrefixFrom(a, int(n)), nil
}

// ParseNetmask parses -n: a prefix length 0..32 or a dotted-decimal mask
// with contiguous ones, as passt's conf_ip4_prefix().
func ParseNetmask(s string) (int, error) {
	if n, err := strconv.ParseUint(s, 0, 8); err == nil && n <= 32 {
		return int(n), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		b := a.As4()
		m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		ones := 0
		for m&(1<<31) != 0 {
			m <<= 1
			ones++
		}
		if m == 0 {
			return ones, nil
		}
	}
	return 0, fmt.Errorf("invalid netmask %q", s)
}

// ParseMAC parses a MAC address as six colon-separated hex octets.
func ParseMAC(s string) ([6]byte, error) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, fmt.Errorf("invalid MAC address %q", s)
	}
	for i, p := range parts {
		if len(p) != 2 {
			return m, fmt.Errorf("invalid MAC address %q", s)
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return m, fmt.Errorf("invalid MAC address %q", s)
		}
		m[i] = byte(v)
	}
	return m, nil
}

// ParseUnicast parses an address that must be specified (not 0.0.0.0/::),
// not the IPv4 broadcast and, unless allowLoopback, not loopback; used for
// gateways, --dns-forward, --dns-host, -o and the --map-* options.
func ParseUnicast(s string, allowLoopback bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("invalid address %q", s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) ||
		(!allowLoopback && a.IsLoopback()) {
		return netip.Addr{}, fmt.Errorf("invalid address %q", s)
	}
	return a, nil
}

// CheckIfname checks an interface name: 1..15 bytes, no '/' or spaces.
func CheckIfname(s string) error {
	if s == "" || len(s) > 15 || strings.ContainsAny(s, "/ \t\n:") {
		return fmt.Errorf("invalid interface name %q", s)
	}
	return nil
}
