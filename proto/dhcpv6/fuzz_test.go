// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import (
	"bytes"
	"testing"
)

func fuzzSeeds() [][]byte {
	return [][]byte{
		msg6(MsgSolicit, clientID(), opt6(OptElapsedTime, be16(0)), iana(7), opt6(OptORO, be16(23), be16(24))),
		msg6(MsgSolicit, clientID(), opt6(OptRapidCommit), iana(7, iaaddr(testOnLink)), iana(8)),
		msg6(MsgRequest, clientID(), serverID(), iana(7, iaaddr(testAddr))),
		msg6(MsgRequest, clientID(), serverID(), iana(7, iaaddr(testOffLnk))),
		msg6(MsgRenew, clientID(), serverID(), iana(7, iaaddr(testAddr), iaaddr(testOffLnk))),
		msg6(MsgRebind, clientID(), iana(7, iaaddr(testAddr))),
		msg6(MsgConfirm, clientID(), iana(7, iaaddr(testOffLnk))),
		msg6(MsgRelease, clientID(), serverID(), iana(7, iaaddr(testAddr))),
		msg6(MsgInformationRequest, clientID()),
	}
}

// FuzzReply feeds arbitrary payloads to Reply: no panic, and any reply
// parses with this package's own parser, nested options included, is an
// ADVERTISE or REPLY with the request's transaction-id and our server
// identifier, and fits MaxReplySize.
func FuzzReply(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	n := testNet()
	out := make([]byte, MaxReplySize)
	f.Fuzz(func(t *testing.T, req []byte) {
		m, ok := Reply(n, req, out)
		if !ok {
			return
		}
		if m < HeaderSize || m > MaxReplySize {
			t.Fatalf("reply length %d", m)
		}
		p := parseReply(t, out[:m])
		if p.typ != MsgAdvertise && p.typ != MsgReply {
			t.Fatalf("reply type %v", p.typ)
		}
		if p.xid != Message(req).TransactionID() {
			t.Fatalf("xid %#x, want %#x", p.xid, Message(req).TransactionID())
		}
		if sid := p.opts[OptServerID]; len(sid) != 1 || !bytes.Equal(sid[0], ourDUID) {
			t.Fatalf("server id %x", sid)
		}
		for _, x := range p.ias(t) {
			if len(x.Addrs) == 0 && x.Status == nil {
				t.Fatalf("IA_NA %d with neither address nor status", x.IAID)
			}
		}
	})
}

// FuzzOptions walks arbitrary bytes as options: no panic, at most n/4
// steps, nested IA_NA walks bounded too, and re-encoding the options found
// walks back to the same options.
func FuzzOptions(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s[HeaderSize:])
	}
	f.Add([]byte{0, 3, 0, 12, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []Option
		it := Options(b).Iter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if len(got) > len(b)/OptionHeaderSize {
				t.Fatal("walk longer than its input allows")
			}
			got = append(got, o)
			if ia := IANA(o.Data); o.Code == OptIANA && ia.Valid() {
				validIA(ia)
			}
		}
		var enc []byte
		for _, o := range got {
			enc = append(enc, byte(o.Code>>8), byte(o.Code), byte(len(o.Data)>>8), byte(len(o.Data)))
			enc = append(enc, o.Data...)
		}
		if !it.Err() && !bytes.Equal(enc, b) {
			t.Fatalf("clean walk does not re-encode to its input")
		}
		it = Options(enc).Iter()
		for i := 0; ; i++ {
			o, ok := it.Next()
			if !ok {
				if i != len(got) || it.Err() {
					t.Fatalf("re-encoded walk stopped at %d of %d, err %v", i, len(got), it.Err())
				}
				break
			}
			if o.Code != got[i].Code || !bytes.Equal(o.Data, got[i].Data) {
				t.Fatalf("option %d: %v, then %v", i, got[i], o)
			}
		}
	})
}
