// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"strings"
	"testing"
)

// TestPeekOffsetFromEnv: unset, empty and auto keep SO_PEEK_OFF, off
// goes without it, and anything else is refused with the variable's name.
func TestPeekOffsetFromEnv(t *testing.T) {
	for _, tt := range []struct {
		val     string
		noPeek  bool
		refused bool
	}{
		{"", false, false},
		{"auto", false, false},
		{"off", true, false},
		{"on", false, true},
		{"OFF", false, true},
		{"0", false, true},
	} {
		t.Run("value "+tt.val, func(t *testing.T) {
			t.Setenv(PeekOffsetEnv, tt.val)
			noPeek, err := PeekOffsetFromEnv()
			if (err != nil) != tt.refused || noPeek != tt.noPeek {
				t.Fatalf("PeekOffsetFromEnv() = %v, %v; want %v, refused %v", noPeek, err, tt.noPeek, tt.refused)
			}
			if err != nil && !strings.Contains(err.Error(), PeekOffsetEnv) {
				t.Fatalf("error %q does not name %s", err, PeekOffsetEnv)
			}
		})
	}
}
