// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

// Domain names in DNS wire format (RFC 1035 §3.1), as options 81 and 119
// carry them, with the message compression of RFC 1035 §4.1.4 that
// RFC 3397 §2 allows in option 119. Counterpart of opt_set_dns_search() in
// passt's dhcp.c, without its in-place rewriting of dots.

const (
	maxLabel     = 63  // RFC 1035 §2.3.4
	maxNameWire  = 255 // RFC 1035 §2.3.4, wire form including the root
	maxPtrHops   = 64  // bounds pointer chasing while matching suffixes
	maxSuffixes  = 128 // label starts remembered for compression
	maxPtrOffset = 0x3fff
	// maxSearchNames bounds the work per reply; passt's MAXDNSRCH is 6.
	maxSearchNames = 32
)

// trimName drops one trailing dot; it returns "" for the root.
func trimName(name string) string {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	return name
}

// nameWireLen returns the length of name in uncompressed wire format, or
// false if it is the root, has an empty label, or a label or the whole name
// is too long.
func nameWireLen(name string) (int, bool) {
	name = trimName(name)
	if name == "" {
		return 0, false
	}
	l, start := 1, 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		ll := i - start
		if ll == 0 || ll > maxLabel {
			return 0, false
		}
		l += 1 + ll
		start = i + 1
	}
	if l > maxNameWire {
		return 0, false
	}
	return l, true
}

// putName writes name uncompressed into dst and returns the bytes written,
// or 0 if the name is invalid (see nameWireLen) or dst is too short.
func putName(dst []byte, name string) int {
	l, ok := nameWireLen(name)
	if !ok || l > len(dst) {
		return 0
	}
	name = trimName(name)
	n, start := 0, 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		dst[n] = byte(i - start)
		n++
		n += copy(dst[n:], name[start:i])
		start = i + 1
	}
	dst[n] = 0
	return n + 1
}

// lower folds ASCII upper case; DNS names compare case-insensitively.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// suffixAt reports whether the (possibly compressed) name encoded at
// buf[off:] spells exactly the dotted suffix s. Pointer chasing is bounded.
func suffixAt(buf []byte, off int, s string) bool {
	for hops := 0; hops < maxPtrHops; {
		if off >= len(buf) {
			return false
		}
		c := buf[off]
		switch {
		case c == 0:
			return s == ""
		case c&0xc0 == 0xc0:
			if off+1 >= len(buf) {
				return false
			}
			off = int(c&0x3f)<<8 | int(buf[off+1])
			hops++
			continue
		case c > maxLabel:
			return false
		}
		l := int(c)
		if off+1+l > len(buf) || len(s) < l || (len(s) > l && s[l] != '.') {
			return false
		}
		for i := 0; i < l; i++ {
			if lower(buf[off+1+i]) != lower(s[i]) {
				return false
			}
		}
		off += 1 + l
		if len(s) > l {
			s = s[l+1:]
		} else {
			s = ""
		}
	}
	return false
}

// putSearch writes the domain search list in RFC 3397 form into dst,
// compressing repeated suffixes, and returns the bytes written. Invalid
// names, and names that no longer fit, are skipped.
func putSearch(dst []byte, names []string) int {
	var starts [maxSuffixes]uint16
	ns, n := 0, 0
	for k, name := range names {
		if k >= maxSearchNames || n+3 > len(dst) {
			break
		}
		if _, ok := nameWireLen(name); !ok {
			continue
		}
		name = trimName(name)
		// Find the longest suffix already encoded.
		ptr, cut := -1, len(name)
		for i := 0; i < len(name) && ptr < 0; i++ {
			if i > 0 && name[i-1] != '.' {
				continue
			}
			for _, st := range starts[:ns] {
				if suffixAt(dst[:n], int(st), name[i:]) {
					ptr, cut = int(st), i
					break
				}
			}
		}
		// Labels before the cut are written out (as many bytes as the
		// dotted prefix has), then a pointer or the whole name and root.
		need := len(name) + 2
		if ptr >= 0 {
			need = cut + 2
		}
		if n+need > len(dst) {
			continue
		}
		start := 0
		for i := 0; i < cut; i++ {
			if name[i] != '.' {
				continue
			}
			if ns < len(starts) && n <= maxPtrOffset {
				starts[ns] = uint16(n)
				ns++
			}
			dst[n] = byte(i - start)
			n += 1 + copy(dst[n+1:], name[start:i])
			start = i + 1
		}
		if cut == len(name) && start < len(name) {
			if ns < len(starts) && n <= maxPtrOffset {
				starts[ns] = uint16(n)
				ns++
			}
			dst[n] = byte(len(name) - start)
			n += 1 + copy(dst[n+1:], name[start:])
		}
		if ptr >= 0 {
			dst[n], dst[n+1] = 0xc0|byte(ptr>>8), byte(ptr)
			n += 2
		} else {
			dst[n] = 0
			n++
		}
	}
	return n
}
