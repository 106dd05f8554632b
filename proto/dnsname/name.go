// SPDX-License-Identifier: GPL-2.0-or-later

package dnsname

const (
	// MaxLabel is the longest label, RFC 1035 §2.3.4.
	MaxLabel = 63
	// MaxWire is the longest name in wire form, including the root,
	// RFC 1035 §2.3.4.
	MaxWire = 255
)

// Trim drops one trailing dot; it returns "" for the root.
func Trim(name string) string {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	return name
}

// WireLen returns the length of name (one trailing dot allowed) in
// uncompressed wire form, or false if it is the root, has an empty label
// or one over MaxLabel bytes, or is longer than MaxWire bytes in wire
// form.
func WireLen(name string) (int, bool) {
	name = Trim(name)
	if name == "" || len(name)+2 > MaxWire {
		return 0, false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		if l := i - start; l == 0 || l > MaxLabel {
			return 0, false
		}
		start = i + 1
	}
	// A length byte per label replaces each dot, plus the first
	// label's and the root's.
	return len(name) + 2, true
}

// Put writes name uncompressed into dst and returns the bytes written, or
// 0 if the name is invalid (see WireLen) or dst is too short.
func Put(dst []byte, name string) int {
	l, ok := WireLen(name)
	if !ok || l > len(dst) {
		return 0
	}
	name = Trim(name)
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

// lower folds ASCII upper case; DNS names compare case-insensitively
// (RFC 1035 §2.3.3).
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
