// SPDX-License-Identifier: GPL-2.0-or-later

package dnsname

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maxTestList is the buffer DHCP gives its option 119 list.
const maxTestList = 1024

func TestPutList(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name      string
		in        []string
		want      string // wire bytes
		wantNames []string
	}{
		{name: "none"},
		{
			name:      "one",
			in:        []string{"example.com"},
			want:      "\x07example\x03com\x00",
			wantNames: []string{"example.com"},
		},
		{
			name:      "suffix compressed, trailing dot dropped",
			in:        []string{"example.com.", "corp.example.com", "com"},
			want:      "\x07example\x03com\x00\x04corp\xc0\x00\xc0\x08",
			wantNames: []string{"example.com", "corp.example.com", "com"},
		},
		{
			name:      "duplicate is a bare pointer, case folded",
			in:        []string{"a.org", "A.ORG"},
			want:      "\x01a\x03org\x00\xc0\x00",
			wantNames: []string{"a.org", "a.org"},
		},
		{
			name:      "root, empty label and long label skipped",
			in:        []string{".", "", "a..b", long + ".com", "x.y"},
			want:      "\x01x\x01y\x00",
			wantNames: []string{"x.y"},
		},
		{
			name:      "partial suffix does not match",
			in:        []string{"foo.com", "oo.com"},
			want:      "\x03foo\x03com\x00\x02oo\xc0\x04",
			wantNames: []string{"foo.com", "oo.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf [maxTestList]byte
			n := PutList(buf[:], tt.in)
			if d := cmp.Diff(tt.want, string(buf[:n])); d != "" {
				t.Errorf("wire (-want +got):\n%q", d)
			}
			names, ok := Decode(buf[:n])
			if !ok {
				t.Fatal("reference decoder rejects the encoding")
			}
			if d := cmp.Diff(tt.wantNames, names); d != "" {
				t.Errorf("decoded (-want +got):\n%s", d)
			}
		})
	}
}

func TestPutListBounded(t *testing.T) {
	var names []string
	for i := range 200 {
		names = append(names, strings.Repeat(string(rune('a'+i%26)), 1+i%60)+".example.net")
	}
	var buf [100]byte
	n := PutList(buf[:], names)
	if n > len(buf) {
		t.Fatalf("wrote %d bytes into %d", n, len(buf))
	}
	got, ok := Decode(buf[:n])
	if !ok || len(got) == 0 {
		t.Fatalf("decode: %v %v", got, ok)
	}
	for i, g := range got {
		if g != strings.TrimSuffix(names[i], ".") {
			t.Errorf("name %d = %q, want %q", i, g, names[i])
		}
	}
	var big [1 << 16]byte
	if got, _ := Decode(big[:PutList(big[:], names)]); len(got) != MaxListNames {
		t.Errorf("%d names written, want MaxListNames (%d)", len(got), MaxListNames)
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, in := range []string{"\x03ab", "\xc0", "\xc0\x00", "\x01a"} {
		if got, ok := Decode([]byte(in)); ok {
			t.Errorf("Decode(%q) = %q, want malformed", in, got)
		}
	}
}
