// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"gopasst/guest"
)

var (
	testAddr   = netip.MustParseAddr("2001:db8::1234")
	testOnLink = netip.MustParseAddr("2001:db8::99")
	testOffLnk = netip.MustParseAddr("2001:db8:ffff::1")
	testMAC    = []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	testXID    = uint32(0x123456)
	testDUID   = append([]byte{0, 3, 0, 1}, testMAC...) // the client's
	ourDUID    = []byte{0, 3, 0, 1, 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
)

func testNet() *guest.Net {
	return &guest.Net{
		MTU:    65520,
		OurMAC: guest.DefaultOurMAC,
		FQDN:   "guest.example.com",
		Search: []string{"example.com", "corp.example.com."},
		V6: guest.Family{
			Addr:      testAddr,
			PrefixLen: 64,
			Gateway:   netip.MustParseAddr("fe80::1"),
			DNS: []netip.Addr{
				netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.0.2.53"),
				netip.MustParseAddr("2001:4860:4860::8888"),
			},
		},
	}
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// opt6 builds an option from the concatenation of parts.
func opt6(code uint16, parts ...[]byte) []byte {
	d := slices.Concat(parts...)
	return slices.Concat(be16(code), be16(uint16(len(d))), d)
}

func msg6(t MessageType, opts ...[]byte) []byte {
	return slices.Concat(append([][]byte{{byte(t), byte(testXID >> 16), byte(testXID >> 8), byte(testXID)}}, opts...)...)
}

func clientID() []byte { return opt6(OptClientID, testDUID) }
func serverID() []byte { return opt6(OptServerID, ourDUID) }

func iana(iaid uint32, opts ...[]byte) []byte {
	return opt6(OptIANA, slices.Concat(append([][]byte{be32(iaid), be32(3600), be32(5400)}, opts...)...))
}

func iaaddr(a netip.Addr) []byte {
	b := a.As16()
	return opt6(OptIAAddr, b[:], be32(7200), be32(7500))
}

// parsed is a reply taken apart with this package's own parser.
type parsed struct {
	typ   MessageType
	xid   uint32
	codes []uint16
	opts  map[uint16][][]byte
}

func parseReply(t testing.TB, b []byte) parsed {
	t.Helper()
	m := Message(b)
	if !m.Valid() {
		t.Fatalf("reply too short: % x", b)
	}
	p := parsed{typ: m.Type(), xid: m.TransactionID(), opts: map[uint16][][]byte{}}
	it := m.Options().Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		p.codes = append(p.codes, o.Code)
		p.opts[o.Code] = append(p.opts[o.Code], o.Data)
	}
	if it.Err() {
		t.Fatalf("reply options malformed: % x", b)
	}
	return p
}

// ia is an IA_NA of a reply, decoded.
type ia struct {
	IAID, T1, T2 uint32
	Addrs        []iaAddr
	Status       *statusOpt
}

type iaAddr struct {
	Addr             netip.Addr
	Preferred, Valid uint32
}

type statusOpt struct {
	Code StatusCode
	Msg  string
}

func decodeStatus(d []byte) *statusOpt {
	if len(d) < 2 {
		return &statusOpt{Code: 0xffff}
	}
	return &statusOpt{Code: StatusCode(binary.BigEndian.Uint16(d)), Msg: string(d[2:])}
}

func (p parsed) ias(t testing.TB) []ia {
	t.Helper()
	var out []ia
	for _, d := range p.opts[OptIANA] {
		v := IANA(d)
		if !v.Valid() {
			t.Fatalf("short IA_NA % x", d)
		}
		x := ia{IAID: v.IAID(), T1: v.T1(), T2: v.T2()}
		it := v.Options().Iter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			switch o.Code {
			case OptIAAddr:
				a := IAAddress(o.Data)
				if !a.Valid() || len(a.Options()) != 0 {
					t.Fatalf("bad IAADDR % x", o.Data)
				}
				x.Addrs = append(x.Addrs, iaAddr{a.Addr(), a.PreferredLifetime(), a.ValidLifetime()})
			case OptStatusCode:
				x.Status = decodeStatus(o.Data)
			default:
				t.Fatalf("unexpected option %d in IA_NA", o.Code)
			}
		}
		if it.Err() {
			t.Fatalf("IA_NA options malformed: % x", d)
		}
		out = append(out, x)
	}
	return out
}

func (p parsed) status() *statusOpt {
	if d := p.opts[OptStatusCode]; len(d) > 0 {
		return decodeStatus(d[0])
	}
	return nil
}
