// SPDX-License-Identifier: GPL-2.0-or-later

package dnsname

import (
	"strings"
	"testing"
)

func TestWireLen(t *testing.T) {
	max := strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 61) // 253 chars
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"example.com", 13, true},
		{"example.com.", 13, true},
		{"", 0, false},
		{".", 0, false},
		{"a..b", 0, false},
		{".a", 0, false},
		{max, MaxWire, true},
		{max + "b", 0, false},
	}
	for _, tt := range tests {
		got, ok := WireLen(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("WireLen(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPut(t *testing.T) {
	max := strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("b", 61)
	x63 := strings.Repeat("x", 63)
	// 254 bytes of name: 256 encoded, over the 255 limit.
	long := strings.Repeat("abcdefg.", 31) + "abcdef"
	tests := []struct {
		in   string
		size int    // of the buffer; 0: 300
		want string // "" = rejected
	}{
		{in: "a", want: "\x01a\x00"},
		{in: "a.", want: "\x01a\x00"},
		{in: "ab.c", want: "\x02ab\x01c\x00"},
		{in: "example.com", want: "\x07example\x03com\x00"},
		{in: "example.com.", want: "\x07example\x03com\x00"},
		{in: ""},
		{in: "."},
		{in: ".a"},
		{in: "a..b"},
		{in: "a.b.."},
		{in: x63, want: "\x3f" + x63 + "\x00"},
		{in: x63 + "x"},
		{in: strings.Repeat("x", 64) + ".com"},
		{in: max, want: "\x3f" + strings.Repeat("a", 63) + "\x3f" + strings.Repeat("a", 63) +
			"\x3f" + strings.Repeat("a", 63) + "\x3d" + strings.Repeat("b", 61) + "\x00"},
		{in: max + "b"},
		{in: long},
		{in: "example.com", size: 13, want: "\x07example\x03com\x00"},
		{in: "example.com", size: 12},
	}
	for _, tt := range tests {
		size := tt.size
		if size == 0 {
			size = 300
		}
		buf := make([]byte, size)
		n := Put(buf, tt.in)
		if got := string(buf[:n]); got != tt.want {
			t.Errorf("Put(%q) into %d bytes = %q, want %q", tt.in, size, got, tt.want)
		}
		if l, ok := WireLen(tt.in); tt.want != "" && (!ok || l != n) {
			t.Errorf("%q: wrote %d bytes, WireLen says %d, %v", tt.in, n, l, ok)
		}
	}
}

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{"": "", ".": "", "a": "a", "a.": "a", "a..": "a."} {
		if got := Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAllocs(t *testing.T) {
	var buf [1024]byte
	names := []string{"example.com", "corp.example.com", "x.y."}
	if a := testing.AllocsPerRun(100, func() {
		Put(buf[:], names[0])
		PutList(buf[:], names)
	}); a != 0 {
		t.Errorf("%v allocations per run, want 0", a)
	}
}
