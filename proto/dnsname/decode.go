// SPDX-License-Identifier: GPL-2.0-or-later

package dnsname

// maxDecodeHops bounds the pointers Decode follows within one name.
const maxDecodeHops = 10

// Decode reads a sequence of names in wire form, compressed or not, as
// PutList and Put write them, and returns them dotted, without the
// trailing dot; false if b is malformed. It is written independently of
// the encoders, as the reference that tests check them against, and
// allocates: not for the data path.
func Decode(b []byte) ([]string, bool) {
	var names []string
	for off := 0; off < len(b); {
		name, next, ok := decodeName(b, off)
		if !ok {
			return nil, false
		}
		names = append(names, name)
		off = next
	}
	return names, true
}

// decodeName reads the name at b[off:] and returns it with the offset
// after it (after the first pointer, if it has one).
func decodeName(b []byte, off int) (string, int, bool) {
	name, next, jumped := "", -1, 0
	for {
		if off >= len(b) || jumped > maxDecodeHops {
			return "", 0, false
		}
		l := int(b[off])
		switch {
		case l == 0:
			if next < 0 {
				next = off + 1
			}
			return name, next, true
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				return "", 0, false
			}
			if next < 0 {
				next = off + 2
			}
			off = (l&0x3f)<<8 | int(b[off+1])
			jumped++
		default:
			if off+1+l > len(b) {
				return "", 0, false
			}
			if name != "" {
				name += "."
			}
			name += string(b[off+1 : off+1+l])
			off += 1 + l
		}
	}
}
