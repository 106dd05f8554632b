// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import "testing"

func fuzzSeeds() [][]byte {
	prl := opt(OptParamRequestList, 1, 3, 6, 12, 15, 26, 119, 121, 81, 80)
	return [][]byte{
		discover(prl).build(),
		discover(opt(OptRapidCommit), opt(OptClientID, 1, 2, 3)).build(),
		requestMsg(opt(OptRequestedAddr, testAddr[:]...), opt(OptServerID, testGW[:]...)).build(),
		requestMsg(opt(OptRequestedAddr, testOther[:]...)).build(),
		testReq{ciaddr: testAddr, opts: [][]byte{msgType(Inform)}}.build(),
		testReq{opts: [][]byte{msgType(Release)}}.build(),
		testReq{opts: [][]byte{opt(OptOverload, 3)}, file: append(msgType(Discover), OptEnd)}.build(),
		discover(opt(OptMaxMessageSize, 5, 0xdc), opt(OptClientFQDN, 0, 0, 0)).build(),
		testReq{}.build(),
	}
}

// FuzzReply feeds arbitrary payloads to Reply: it must not panic, and any
// reply must parse with this package's own parser, carry a server message
// type and the request's xid, and fit the buffer.
func FuzzReply(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	n := testNet()
	out := make([]byte, MaxReplySize)
	f.Fuzz(func(t *testing.T, req []byte) {
		m, _, ok := Reply(n, req, out)
		if !ok {
			return
		}
		if m < MinBOOTPSize || m > len(out) {
			t.Fatalf("reply length %d", m)
		}
		p := parseReply(t, out[:m])
		switch p.typ() {
		case Offer, Ack, Nak:
		default:
			t.Fatalf("reply type %d", p.typ())
		}
		if p.msg.Op() != BootReply || p.msg.TransactionID() != Message(req).TransactionID() {
			t.Fatalf("reply header op %d xid %#x", p.msg.Op(), p.msg.TransactionID())
		}
		if _, ok := p.opts[OptServerID]; !ok {
			t.Fatal("reply without server identifier")
		}
	})
}

// FuzzOptions walks arbitrary option bytes: no panic, a bounded walk, and
// the options found re-encode to bytes that walk to the same options.
func FuzzOptions(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s[optOffset:])
	}
	f.Add([]byte{0, 0, 12, 200, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []Option
		it := Options(b).Iter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if len(got) > len(b) {
				t.Fatal("walk longer than its input")
			}
			if o.Code == OptPad || o.Code == OptEnd {
				t.Fatalf("iterator returned code %d", o.Code)
			}
			got = append(got, o)
		}
		var enc []byte
		for _, o := range got {
			enc = append(enc, o.Code, byte(len(o.Data)))
			enc = append(enc, o.Data...)
		}
		var again []Option
		it = Options(enc).Iter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			again = append(again, o)
		}
		if it.Err() {
			t.Fatal("re-encoded options malformed")
		}
		if len(got) != len(again) {
			t.Fatalf("round trip: %d options, then %d", len(got), len(again))
		}
		for i := range got {
			if got[i].Code != again[i].Code || string(got[i].Data) != string(again[i].Data) {
				t.Fatalf("round trip: option %d is %v, then %v", i, got[i], again[i])
			}
		}
	})
}
