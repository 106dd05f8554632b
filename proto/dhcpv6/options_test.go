// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

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
	}{
		{name: "empty"},
		{
			name: "two options",
			in:   []byte{0, 14, 0, 0, 0, 8, 0, 2, 0, 5},
			want: []Option{{Code: 14, Data: []byte{}}, {Code: 8, Data: []byte{0, 5}}},
		},
		{
			name: "header cut short",
			in:   []byte{0, 14, 0, 0, 0, 8, 0},
			want: []Option{{Code: 14, Data: []byte{}}}, wantErr: true,
		},
		{name: "length past the end", in: []byte{0, 1, 0, 3, 0, 1}, wantErr: true},
		{name: "maximum length past the end", in: []byte{0, 1, 0xff, 0xff, 0}, wantErr: true},
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
			if it.Err() != tt.wantErr || Options(tt.in).Valid() == tt.wantErr {
				t.Errorf("Err %v Valid %v, want error %v", it.Err(), Options(tt.in).Valid(), tt.wantErr)
			}
		})
	}
}

func TestViews(t *testing.T) {
	m := Message(msg6(MsgRenew, iana(0x01020304, iaaddr(testAddr))))
	if !m.Valid() || m.Type() != MsgRenew || m.TransactionID() != testXID {
		t.Fatalf("header: %v %#x", m.Type(), m.TransactionID())
	}
	d, ok := m.Options().Find(OptIANA)
	ia := IANA(d)
	if !ok || !ia.Valid() || ia.IAID() != 0x01020304 || ia.T1() != 3600 || ia.T2() != 5400 {
		t.Fatalf("IA_NA % x", d)
	}
	d, ok = ia.Options().Find(OptIAAddr)
	a := IAAddress(d)
	if !ok || !a.Valid() || a.Addr() != testAddr || a.PreferredLifetime() != 7200 || a.ValidLifetime() != 7500 || len(a.Options()) != 0 {
		t.Fatalf("IAADDR % x", d)
	}
	m.SetType(MsgReply)
	m.SetTransactionID(0xff010203)
	if m.Type() != MsgReply || m.TransactionID() != 0x010203 {
		t.Errorf("setters: %v %#x", m.Type(), m.TransactionID())
	}
	if s := MsgInformationRequest.String(); s != "INFORMATION-REQUEST" {
		t.Errorf("String() = %q", s)
	}
	if s := MessageType(99).String(); s != "MessageType(99)" {
		t.Errorf("String() = %q", s)
	}
}
