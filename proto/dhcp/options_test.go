// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOptionIter(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []Option
		wantErr bool
		wantEnd bool
	}{
		{name: "empty"},
		{name: "pads only", in: []byte{0, 0, 0}},
		{name: "end only", in: []byte{255, 1, 2, 3}, wantEnd: true},
		{
			name: "options, pads, end, trailing garbage ignored",
			in:   []byte{53, 1, 1, 0, 0, 61, 2, 9, 8, 80, 0, 255, 53, 9},
			want: []Option{
				{Code: 53, Data: []byte{1}},
				{Code: 61, Data: []byte{9, 8}},
				{Code: 80, Data: []byte{}},
			},
			wantEnd: true,
		},
		{
			name: "missing end",
			in:   []byte{53, 1, 3},
			want: []Option{{Code: 53, Data: []byte{3}}},
		},
		{
			name: "length past the end",
			in:   []byte{53, 1, 3, 12, 5, 'a'},
			want: []Option{{Code: 53, Data: []byte{3}}}, wantErr: true,
		},
		{name: "code without length", in: []byte{0, 12}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := Options(tt.in).Iter()
			var got []Option
			for o, ok := it.Next(); ok; o, ok = it.Next() {
				got = append(got, o)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
			if it.Err() != tt.wantErr || it.Ended() != tt.wantEnd {
				t.Errorf("Err %v Ended %v, want %v %v", it.Err(), it.Ended(), tt.wantErr, tt.wantEnd)
			}
			// Next stays false once done.
			if _, ok := it.Next(); ok {
				t.Error("Next after the end returned an option")
			}
		})
	}
}

func TestOptionsFind(t *testing.T) {
	o := Options{53, 1, 1, 50, 4, 1, 2, 3, 4, 50, 4, 9, 9, 9, 9, 255}
	d, ok := o.Find(50)
	if !ok || !cmp.Equal(d, []byte{1, 2, 3, 4}) {
		t.Errorf("Find(50) = %v, %v", d, ok)
	}
	if _, ok := o.Find(54); ok {
		t.Error("Find(54) found an absent option")
	}
	// Data must not let a caller append over the next option.
	if cap(d) != len(d) {
		t.Errorf("option data capacity %d beyond its length %d", cap(d), len(d))
	}
}

func TestMessageValid(t *testing.T) {
	good := discover().build()
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"discover", good, true},
		{"header only", good[:HeaderSize], false},
		{"nil", nil, false},
		{"bad cookie", func() []byte { b := discover().build(); b[cookieOffset] = 0; return b }(), false},
		{"hlen 17", func() []byte { b := discover().build(); b[hlenOffset] = 17; return b }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Message(tt.b).Valid(); got != tt.want {
				t.Errorf("Valid() = %v, want %v", got, tt.want)
			}
		})
	}
}
