// SPDX-License-Identifier: GPL-2.0-or-later

package dnsname

const (
	// MaxListNames bounds the names PutList writes, and so its work per
	// call; passt's MAXDNSRCH is 6.
	MaxListNames = 32

	maxPtrHops   = 64  // bounds pointer chasing while matching suffixes
	maxSuffixes  = 128 // label starts remembered for compression
	maxPtrOffset = 0x3fff
)

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
		case c > MaxLabel:
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

// PutList writes the first MaxListNames of names into dst, compressed
// (RFC 1035 §4.1.4, as RFC 3397 §2 allows for DHCP option 119), and
// returns the bytes written. Invalid names, and names that no longer fit,
// are skipped.
func PutList(dst []byte, names []string) int {
	var starts [maxSuffixes]uint16
	ns, n := 0, 0
	for k, name := range names {
		if k >= MaxListNames || n+3 > len(dst) {
			break
		}
		if _, ok := WireLen(name); !ok {
			continue
		}
		name = Trim(name)
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
