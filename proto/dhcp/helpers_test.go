// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"gopasst/guest"
)

var (
	testAddr  = [4]byte{192, 168, 1, 100}
	testGW    = [4]byte{192, 168, 1, 1}
	testMAC   = []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	testXID   = uint32(0xdeadbeef)
	testOther = [4]byte{192, 168, 1, 99}
)

func testNet() *guest.Net {
	return &guest.Net{
		MTU:      65520,
		OurMAC:   guest.DefaultOurMAC,
		Hostname: "guest",
		FQDN:     "guest.example.com",
		Search:   []string{"example.com", "corp.example.com."},
		V4: guest.Family{
			Addr:      netip.AddrFrom4(testAddr),
			PrefixLen: 24,
			Gateway:   netip.AddrFrom4(testGW),
			DNS: []netip.Addr{
				netip.AddrFrom4(testGW), netip.MustParseAddr("2001:db8::53"),
				netip.MustParseAddr("8.8.8.8"),
			},
		},
	}
}

// testReq builds a client message; the zero value plus fields is a
// BOOTREQUEST from testMAC with transaction testXID.
type testReq struct {
	op       uint8 // 0: BootRequest
	hlen     uint8 // 0: 6
	flags    uint16
	ciaddr   [4]byte
	cookie   uint32 // 0: MagicCookie
	opts     [][]byte
	noEnd    bool
	file     []byte // copied into the file field
	truncate int    // > 0: cut the message to this length
}

func opt(code byte, data ...byte) []byte {
	return append([]byte{code, byte(len(data))}, data...)
}

func msgType(t byte) []byte { return opt(OptMessageType, t) }

func (t testReq) build() []byte {
	b := make([]byte, MinSize, 600)
	m := Message(b)
	m.SetOp(BootRequest)
	if t.op != 0 {
		m.SetOp(t.op)
	}
	m.SetHardwareType(1)
	m.SetHardwareLen(6)
	if t.hlen != 0 {
		m.SetHardwareLen(t.hlen)
	}
	m.SetTransactionID(testXID)
	m.SetSecs(3)
	m.SetFlags(t.flags)
	m.SetClientAddr(t.ciaddr)
	m.SetClientHardwareAddr(testMAC)
	m.SetCookie(MagicCookie)
	if t.cookie != 0 {
		m.SetCookie(t.cookie)
	}
	copy(m.File(), t.file)
	for _, o := range t.opts {
		b = append(b, o...)
	}
	if !t.noEnd {
		b = append(b, OptEnd)
	}
	if t.truncate > 0 {
		b = b[:t.truncate]
	}
	return b
}

func discover(opts ...[]byte) testReq {
	return testReq{opts: append([][]byte{msgType(Discover)}, opts...)}
}

func requestMsg(opts ...[]byte) testReq {
	return testReq{opts: append([][]byte{msgType(Request)}, opts...)}
}

// parsed is a reply taken apart by this package's own parser.
type parsed struct {
	msg   Message
	codes []uint8          // option codes in order
	opts  map[uint8][]byte // data, concatenated for repeated codes (RFC 3396)
}

func parseReply(t testing.TB, b []byte) parsed {
	t.Helper()
	p := parsed{msg: Message(b), opts: map[uint8][]byte{}}
	if !p.msg.Valid() {
		t.Fatalf("reply not a valid message: % x", b)
	}
	it := p.msg.Options().Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if _, dup := p.opts[o.Code]; !dup {
			p.codes = append(p.codes, o.Code)
		}
		p.opts[o.Code] = append(p.opts[o.Code], o.Data...)
	}
	if it.Err() || !it.Ended() {
		t.Fatalf("reply options malformed or without end: % x", b[optOffset:])
	}
	return p
}

func (p parsed) typ() uint8 {
	if d := p.opts[OptMessageType]; len(d) == 1 {
		return d[0]
	}
	return 0
}

func (p parsed) u32(code uint8) uint32 {
	if d := p.opts[code]; len(d) == 4 {
		return binary.BigEndian.Uint32(d)
	}
	return 0
}
