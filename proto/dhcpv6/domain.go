// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

// Domain names in DNS wire format, uncompressed, as RFC 8415 §10 requires
// for options 24 and 39. Counterpart of dhcpv6_dns_fill() in passt.

const (
	maxLabel    = 63  // RFC 1035 §2.3.4
	maxNameWire = 255 // RFC 1035 §2.3.4, wire form including the root
)

// trimName drops one trailing dot; it returns "" for the root.
func trimName(name string) string {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	return name
}

// nameWireLen returns the length of name (one trailing dot allowed) in wire
// format, or false if it is the root, has an empty label or one over 63
// bytes, or is longer than 255 bytes in wire form.
func nameWireLen(name string) (int, bool) {
	name = trimName(name)
	if name == "" || len(name)+2 > maxNameWire {
		return 0, false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		if l := i - start; l == 0 || l > maxLabel {
			return 0, false
		}
		start = i + 1
	}
	return len(name) + 2, true
}

// putName writes a name that nameWireLen accepts into dst, which must have
// room for it, and returns the bytes written.
func putName(dst []byte, name string) int {
	name = trimName(name)
	n, start := 0, 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		dst[n] = byte(i - start)
		n += 1 + copy(dst[n+1:], name[start:i])
		start = i + 1
	}
	dst[n] = 0
	return n + 1
}
