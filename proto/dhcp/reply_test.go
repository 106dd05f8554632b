// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopasst/guest"
	"gopasst/proto/dnsname"
)

func TestReply(t *testing.T) {
	prl := func(codes ...byte) []byte { return opt(OptParamRequestList, codes...) }
	a := testAddr
	gw := testGW
	other := testOther
	bigSearch := func(n *guest.Net) {
		n.Search = nil
		for i := range 20 {
			n.Search = append(n.Search, string(rune('a'+i))+"-long-search-domain-name.subdomain.example.org")
		}
	}

	tests := []struct {
		name      string
		net       func(*guest.Net) // changes to testNet
		req       testReq
		wantDrop  bool
		wantType  uint8
		wantYI    [4]byte
		wantCI    [4]byte
		wantBcast bool
		check     func(t *testing.T, p parsed, m int)
	}{{
		name:     "discover gets offer",
		req:      discover(prl(1, 3, 6, 12, 15, 26, 119, 121)),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, m int) {
			want := map[uint8][]byte{
				OptMessageType:  {Offer},
				OptSubnetMask:   {255, 255, 255, 0},
				OptRouter:       gw[:],
				OptDNS:          {192, 168, 1, 1, 8, 8, 8, 8},
				OptHostname:     []byte("guest"),
				OptDomainName:   []byte("example.com"),
				OptInterfaceMTU: {0xff, 0xf0},
				OptLeaseTime:    {0xff, 0xff, 0xff, 0xff},
				OptServerID:     gw[:],
				OptClientFQDN:   append([]byte{fqdnE, 255, 255}, "\x05guest\x07example\x03com\x00"...),
				OptDomainSearch: []byte("\x07example\x03com\x00\x04corp\xc0\x00"),
			}
			if d := cmp.Diff(want, p.opts); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
			// 53 first, then the parameter request list's order.
			if d := cmp.Diff([]uint8{53, 1, 3, 6, 12, 15, 26, 119, 51, 54, 81}, p.codes); d != "" {
				t.Errorf("option order (-want +got):\n%s", d)
			}
			if m < MinBOOTPSize || m > DefaultMessageSize {
				t.Errorf("length %d outside [%d, %d]", m, MinBOOTPSize, DefaultMessageSize)
			}
		},
	}, {
		name:     "parameter request list order honoured",
		req:      discover(prl(6, 54, 3, 53, 1, 200)),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if d := cmp.Diff([]uint8{53, 6, 54, 3, 1}, p.codes[:5]); d != "" {
				t.Errorf("option order (-want +got):\n%s", d)
			}
		},
	}, {
		name:     "discover with rapid commit gets ack",
		req:      discover(opt(OptRapidCommit)),
		wantType: Ack, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if d, ok := p.opts[OptRapidCommit]; !ok || len(d) != 0 {
				t.Errorf("option 80 = %v, %v; want empty and present", d, ok)
			}
		},
	}, {
		name:     "offer has no rapid commit",
		req:      discover(),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if _, ok := p.opts[OptRapidCommit]; ok {
				t.Error("option 80 in an offer")
			}
		},
	}, {
		name:     "request selecting gets ack",
		req:      requestMsg(opt(OptRequestedAddr, a[:]...), opt(OptServerID, gw[:]...)),
		wantType: Ack, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if got := p.u32(OptLeaseTime); got != 0xffffffff {
				t.Errorf("lease time %#x, want infinite", got)
			}
		},
	}, {
		name:     "request for another server ignored",
		req:      requestMsg(opt(OptRequestedAddr, a[:]...), opt(OptServerID, 10, 0, 0, 1)),
		wantDrop: true,
	}, {
		name:     "request for another address gets nak",
		req:      requestMsg(opt(OptRequestedAddr, other[:]...), opt(OptServerID, gw[:]...), opt(OptClientID, 1, 2, 3)),
		wantType: Nak, wantBcast: true,
		check: func(t *testing.T, p parsed, _ int) {
			if d := cmp.Diff([]uint8{53, 54, 61}, p.codes); d != "" {
				t.Errorf("NAK options (-want +got):\n%s", d)
			}
		},
	}, {
		name:     "init-reboot with wrong address gets nak",
		req:      requestMsg(opt(OptRequestedAddr, other[:]...)),
		wantType: Nak, wantBcast: true,
	}, {
		name:     "init-reboot with our address gets ack",
		req:      requestMsg(opt(OptRequestedAddr, a[:]...)),
		wantType: Ack, wantYI: a,
	}, {
		name: "renewing gets ack with ciaddr",
		req: func() testReq {
			r := requestMsg()
			r.ciaddr = a
			return r
		}(),
		wantType: Ack, wantYI: a, wantCI: a,
	}, {
		name: "renewing another address gets nak",
		req: func() testReq {
			r := requestMsg()
			r.ciaddr = other
			return r
		}(),
		wantType: Nak, wantBcast: true,
	}, {
		name:     "inform gets ack without lease",
		req:      testReq{ciaddr: a, opts: [][]byte{msgType(Inform)}},
		wantType: Ack, wantCI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if _, ok := p.opts[OptLeaseTime]; ok {
				t.Error("lease time in reply to INFORM")
			}
			if _, ok := p.opts[OptServerID]; !ok {
				t.Error("no server identifier in reply to INFORM")
			}
		},
	}, {
		name:     "bootp without option 53 gets ack",
		req:      testReq{},
		wantType: Ack, wantYI: a,
	}, {
		name:     "release dropped",
		req:      testReq{ciaddr: a, opts: [][]byte{msgType(Release), opt(OptServerID, gw[:]...)}},
		wantDrop: true,
	}, {
		name:     "decline dropped",
		req:      testReq{opts: [][]byte{msgType(Decline), opt(OptRequestedAddr, a[:]...)}},
		wantDrop: true,
	}, {
		name:     "server message dropped",
		req:      testReq{opts: [][]byte{msgType(Offer)}},
		wantDrop: true,
	}, {
		name:     "bootreply op dropped",
		req:      func() testReq { r := discover(); r.op = BootReply; return r }(),
		wantDrop: true,
	}, {
		name:     "bad cookie dropped",
		req:      func() testReq { r := discover(); r.cookie = 0x63825364; return r }(),
		wantDrop: true,
	}, {
		name:     "truncated header dropped",
		req:      func() testReq { r := discover(); r.truncate = MinSize - 1; return r }(),
		wantDrop: true,
	}, {
		name:     "truncated option dropped",
		req:      func() testReq { r := discover(opt(OptHostname, 'a', 'b', 'c')); r.truncate = MinSize + 3 + 3; return r }(),
		wantDrop: true,
	}, {
		name:     "option length past end dropped",
		req:      testReq{opts: [][]byte{msgType(Discover), {OptHostname, 200, 'x'}}, noEnd: true},
		wantDrop: true,
	}, {
		name:     "message type with bad length dropped",
		req:      testReq{opts: [][]byte{opt(OptMessageType, Discover, 0)}},
		wantDrop: true,
	}, {
		name:     "requested address with bad length dropped",
		req:      requestMsg(opt(OptRequestedAddr, 192, 168, 1)),
		wantDrop: true,
	}, {
		name:     "max message size with bad length dropped",
		req:      discover(opt(OptMaxMessageSize, 2)),
		wantDrop: true,
	}, {
		name:     "hlen over 16 dropped",
		req:      func() testReq { r := discover(); r.hlen = 17; return r }(),
		wantDrop: true,
	}, {
		name:     "hlen 16 accepted, chaddr copied",
		req:      func() testReq { r := discover(); r.hlen = 16; return r }(),
		wantType: Offer, wantYI: a,
	}, {
		name:     "missing end option tolerated",
		req:      testReq{opts: [][]byte{msgType(Discover)}, noEnd: true},
		wantType: Offer, wantYI: a,
	}, {
		name:     "broadcast flag honoured",
		req:      func() testReq { r := discover(); r.flags = FlagBroadcast; return r }(),
		wantType: Offer, wantYI: a, wantBcast: true,
	}, {
		name:     "client identifier echoed",
		req:      discover(opt(OptClientID, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56)),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if d := cmp.Diff([]byte{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}, p.opts[OptClientID]); d != "" {
				t.Errorf("option 61 (-want +got):\n%s", d)
			}
		},
	}, {
		name: "gateway off-link gets classless routes",
		net: func(n *guest.Net) {
			n.V4.Gateway = netip.MustParseAddr("10.0.0.1")
			n.V4.PrefixLen = 32
		},
		req:      discover(),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			want := []byte{32, 10, 0, 0, 1, 0, 0, 0, 0, 0, 10, 0, 0, 1}
			if d := cmp.Diff(want, p.opts[OptClasslessRoutes]); d != "" {
				t.Errorf("option 121 (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]byte{255, 255, 255, 255}, p.opts[OptSubnetMask]); d != "" {
				t.Errorf("option 1 (-want +got):\n%s", d)
			}
		},
	}, {
		name:     "gateway on-link: no classless routes",
		req:      discover(),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if _, ok := p.opts[OptClasslessRoutes]; ok {
				t.Error("option 121 with an on-link gateway")
			}
		},
	}, {
		name: "empty DNS, MTU 0, no names: options omitted",
		net: func(n *guest.Net) {
			n.V4.DNS, n.MTU, n.Hostname, n.FQDN, n.Search = nil, 0, "", "", nil
		},
		req:      discover(),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if d := cmp.Diff([]uint8{53, 1, 3, 51, 54}, p.codes); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		},
	}, {
		name:     "fqdn in ascii when the client clears E",
		req:      discover(opt(OptClientFQDN, 0, 0, 0, 'x')),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, _ int) {
			if d := cmp.Diff(append([]byte{0, 255, 255}, "guest.example.com"...), p.opts[OptClientFQDN]); d != "" {
				t.Errorf("option 81 (-want +got):\n%s", d)
			}
		},
	}, {
		name:     "long search list left out within 548 bytes",
		net:      bigSearch,
		req:      discover(opt(OptClientID, bytes.Repeat([]byte{7}, 200)...)),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, m int) {
			if m > DefaultMessageSize {
				t.Errorf("length %d > %d", m, DefaultMessageSize)
			}
			for _, c := range []uint8{OptServerID, OptLeaseTime, OptSubnetMask, OptRouter, OptDNS, OptClientID} {
				if _, ok := p.opts[c]; !ok {
					t.Errorf("essential option %d missing", c)
				}
			}
			if _, ok := p.opts[OptDomainSearch]; ok {
				t.Error("option 119 squeezed in although it cannot fit")
			}
		},
	}, {
		name:     "long search list split with option 57",
		net:      bigSearch,
		req:      discover(opt(OptMaxMessageSize, 1500>>8, 1500&0xff)),
		wantType: Offer, wantYI: a,
		check: func(t *testing.T, p parsed, m int) {
			if m <= DefaultMessageSize || m > MaxReplySize {
				t.Errorf("length %d, want in (%d, %d]", m, DefaultMessageSize, MaxReplySize)
			}
			names, ok := dnsname.Decode(p.opts[OptDomainSearch])
			if !ok || len(names) != 20 {
				t.Fatalf("search list decodes to %d names (%v)", len(names), ok)
			}
			if names[19] != "t-long-search-domain-name.subdomain.example.org" {
				t.Errorf("last name %q", names[19])
			}
		},
	}, {
		name: "option overload: message type in file field",
		req: testReq{
			opts: [][]byte{opt(OptOverload, overloadFile)},
			file: append(msgType(Discover), OptEnd),
		},
		wantType: Offer, wantYI: a,
	}, {
		name: "option overload ignored outside the options field",
		req: testReq{
			opts: [][]byte{msgType(Discover), opt(OptOverload, overloadFile)},
			file: append(opt(OptOverload, 3), OptEnd),
		},
		wantType: Offer, wantYI: a,
	}, {
		name:     "bad overload value dropped",
		req:      testReq{opts: [][]byte{msgType(Discover), opt(OptOverload, 4)}},
		wantDrop: true,
	}, {
		name:     "dhcp disabled",
		net:      func(n *guest.Net) { n.NoDHCP = true },
		req:      discover(),
		wantDrop: true,
	}, {
		name:     "ipv4 disabled",
		net:      func(n *guest.Net) { n.V4.Addr = netip.Addr{} },
		req:      discover(),
		wantDrop: true,
	}}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testNet()
			if tt.net != nil {
				tt.net(n)
			}
			req := tt.req.build()
			out := make([]byte, MaxReplySize)
			m, bcast, ok := Reply(n, req, out)
			if ok == tt.wantDrop {
				t.Fatalf("Reply ok = %v, want %v", ok, !tt.wantDrop)
			}
			if !ok {
				return
			}
			p := parseReply(t, out[:m])
			if got := p.typ(); got != tt.wantType {
				t.Errorf("message type %d, want %d", got, tt.wantType)
			}
			if bcast != tt.wantBcast {
				t.Errorf("broadcast %v, want %v", bcast, tt.wantBcast)
			}
			msg, rq := p.msg, Message(req)
			if msg.Op() != BootReply || msg.TransactionID() != testXID ||
				msg.Flags() != rq.Flags() || msg.HardwareLen() != rq.HardwareLen() ||
				msg.HardwareType() != 1 || msg.Secs() != 0 || msg.Hops() != 0 {
				t.Errorf("header: op %d xid %#x flags %#x hlen %d htype %d secs %d hops %d",
					msg.Op(), msg.TransactionID(), msg.Flags(), msg.HardwareLen(),
					msg.HardwareType(), msg.Secs(), msg.Hops())
			}
			if !bytes.Equal(msg.ClientHardwareAddr(), rq.ClientHardwareAddr()) {
				t.Errorf("chaddr % x, want % x", msg.ClientHardwareAddr(), rq.ClientHardwareAddr())
			}
			if msg.YourAddr() != tt.wantYI || msg.ClientAddr() != tt.wantCI {
				t.Errorf("yiaddr %v ciaddr %v, want %v %v", msg.YourAddr(), msg.ClientAddr(), tt.wantYI, tt.wantCI)
			}
			if sid := p.opts[OptServerID]; !bytes.Equal(sid, n.V4.Gateway.AsSlice()) {
				t.Errorf("server identifier % x, want the gateway", sid)
			}
			if m < MinBOOTPSize {
				t.Errorf("reply %d bytes, shorter than %d", m, MinBOOTPSize)
			}
			if tt.check != nil {
				tt.check(t, p, m)
			}
		})
	}
}

// TestReplyStateless checks that answers depend only on the request: a
// second identical request gets identical bytes, even in a dirty buffer.
func TestReplyStateless(t *testing.T) {
	n := testNet()
	req := discover(opt(OptParamRequestList, 119, 6)).build()
	out1 := make([]byte, MaxReplySize)
	out2 := bytes.Repeat([]byte{0xa5}, MaxReplySize)
	m1, _, ok1 := Reply(n, req, out1)
	Reply(n, requestMsg(opt(OptRequestedAddr, testOther[:]...)).build(), out2)
	m2, _, ok2 := Reply(n, req, out2)
	if !ok1 || !ok2 || !bytes.Equal(out1[:m1], out2[:m2]) {
		t.Errorf("replies differ:\n% x\n% x", out1[:m1], out2[:m2])
	}
}

func TestReplyShortBuffer(t *testing.T) {
	n := testNet()
	req := discover().build()
	if _, _, ok := Reply(n, req, make([]byte, MinBOOTPSize-1)); ok {
		t.Error("reply into a buffer below the BOOTP minimum")
	}
	out := make([]byte, MinBOOTPSize+20)
	m, _, ok := Reply(n, req, out)
	if !ok {
		t.Fatal("no reply into a small buffer")
	}
	p := parseReply(t, out[:m])
	for _, c := range []uint8{OptServerID, OptLeaseTime, OptSubnetMask, OptRouter} {
		if _, ok := p.opts[c]; !ok {
			t.Errorf("essential option %d missing: %v", c, p.codes)
		}
	}
}

func TestReplyAllocs(t *testing.T) {
	n := testNet()
	reqs := [][]byte{
		discover(opt(OptParamRequestList, 1, 3, 6, 12, 15, 26, 119, 121, 81)).build(),
		requestMsg(opt(OptRequestedAddr, testAddr[:]...), opt(OptServerID, testGW[:]...)).build(),
		testReq{ciaddr: testAddr, opts: [][]byte{msgType(Inform)}}.build(),
	}
	out := make([]byte, MaxReplySize)
	for _, req := range reqs {
		if a := testing.AllocsPerRun(100, func() {
			if _, _, ok := Reply(n, req, out); !ok {
				t.Fatal("no reply")
			}
		}); a != 0 {
			t.Errorf("Reply allocates %v times per call", a)
		}
	}
}

func BenchmarkReply(b *testing.B) {
	n := testNet()
	req := discover(opt(OptParamRequestList, 1, 3, 6, 12, 15, 26, 119, 121, 81)).build()
	out := make([]byte, MaxReplySize)
	b.ReportAllocs()
	for b.Loop() {
		Reply(n, req, out)
	}
}

// TestReplyAcceptedByClients checks what busybox udhcpc and ISC dhclient
// insist on before they take an offer or an ack: op BOOTREPLY, the magic
// cookie, matching xid and chaddr, option 53 present, option 54 present
// (udhcpc's "no server ID" path and dhclient's lease validation), yiaddr
// set in OFFER and ACK, and a subnet mask (dhclient's default "require").
func TestReplyAcceptedByClients(t *testing.T) {
	n := testNet()
	for _, req := range []testReq{
		discover(opt(OptParamRequestList, 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42)),
		requestMsg(opt(OptRequestedAddr, testAddr[:]...), opt(OptServerID, testGW[:]...)),
	} {
		out := make([]byte, MaxReplySize)
		m, _, ok := Reply(n, req.build(), out)
		if !ok {
			t.Fatal("no reply")
		}
		p := parseReply(t, out[:m])
		if p.msg.Op() != BootReply || p.msg.TransactionID() != testXID ||
			!bytes.Equal(p.msg.ClientHardwareAddr()[:6], testMAC) {
			t.Error("header does not match the request")
		}
		for _, c := range []uint8{OptMessageType, OptServerID, OptSubnetMask, OptLeaseTime} {
			if _, ok := p.opts[c]; !ok {
				t.Errorf("option %d missing", c)
			}
		}
		if p.msg.YourAddr() != testAddr {
			t.Errorf("yiaddr %v", p.msg.YourAddr())
		}
		if m > DefaultMessageSize {
			t.Errorf("reply of %d bytes: udhcpc drops replies over 576-byte datagrams", m)
		}
		if !slices.Contains([]uint8{Offer, Ack}, p.typ()) {
			t.Errorf("type %d", p.typ())
		}
	}
}
