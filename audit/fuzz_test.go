// SPDX-License-Identifier: GPL-2.0-or-later

package audit

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"
)

// FuzzAppendJSON: whatever the strings and addresses, an event is one
// line that encoding/json reads back with the same rule text (escaped
// bytes above 0x7f read back as U+0080..U+00FF).
func FuzzAppendJSON(f *testing.F) {
	f.Add("tcp", "10.0.0.0/8:22", []byte{10, 0, 2, 15}, uint16(41000), int64(5), uint8(1))
	f.Add("udp", "a\"b\\c\n\xff", []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(0), int64(-1), uint8(9))
	f.Fuzz(func(t *testing.T, proto, rule string, addr []byte, port uint16, n int64, kind uint8) {
		a, _ := netip.AddrFromSlice(addr)
		ev := Event{Time: time.Unix(0, n), Kind: Kind(kind % 5), Proto: proto, Dir: Dir(kind % 3),
			Guest: netip.AddrPortFrom(a, port), Host: netip.AddrPortFrom(a, ^port), Rule: rule,
			BytesFromGuest: uint64(n), BytesToGuest: uint64(port), Duration: time.Duration(n)}
		b := AppendJSON(nil, &ev)
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Fatalf("no newline: %q", b)
		}
		for _, c := range b[:len(b)-1] {
			if c == '\n' || c >= 0x80 {
				t.Fatalf("raw newline or non-ASCII byte in %q", b)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if rule != "" {
			want := make([]rune, len(rule))
			for i := 0; i < len(rule); i++ {
				want[i] = rune(rule[i])
			}
			if m["rule"] != string(want) {
				t.Fatalf("rule %q read back as %q", rule, m["rule"])
			}
		}
	})
}
