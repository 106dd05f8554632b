// SPDX-License-Identifier: GPL-2.0-or-later

package dnsname

import "testing"

// FuzzPutList encodes arbitrary lists: the result stays in bounds and the
// reference decoder reads back exactly the valid names.
func FuzzPutList(f *testing.F) {
	f.Add("example.com", "corp.example.com", "com.")
	f.Add("a..b", ".", "x")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var buf [maxTestList]byte
		in := []string{a, b, c}
		n := PutList(buf[:], in)
		got, ok := Decode(buf[:n])
		if !ok {
			t.Fatalf("undecodable: %q", buf[:n])
		}
		var want []string
		for _, s := range in {
			if _, ok := WireLen(s); ok {
				want = append(want, Trim(s))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		for i := range got {
			if !equalFold(got[i], want[i]) {
				t.Fatalf("decoded %q, want %q", got, want)
			}
		}
		// Each name alone, uncompressed, reads back the same.
		for _, s := range in {
			var one [MaxWire]byte
			k := Put(one[:], s)
			if _, ok := WireLen(s); ok != (k > 0) {
				t.Fatalf("Put(%q) wrote %d bytes, WireLen valid %v", s, k, ok)
			}
			if names, ok := Decode(one[:k]); !ok || (k > 0 && (len(names) != 1 || names[0] != Trim(s))) {
				t.Fatalf("Put(%q) decodes as %q, %v", s, names, ok)
			}
		}
	})
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
