// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopasst/guest"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestReply(t *testing.T) {
	ours := ia{IAID: 7, T1: Infinity, T2: Infinity, Addrs: []iaAddr{{testAddr, Infinity, Infinity}}}
	wantDNS := slices.Concat(netip.MustParseAddr("2001:db8::53").AsSlice(), netip.MustParseAddr("2001:4860:4860::8888").AsSlice())
	wantSearch := []byte("\x07example\x03com\x00\x04corp\x07example\x03com\x00")
	wantFQDN := []byte("\x00\x05guest\x07example\x03com\x00")

	tests := []struct {
		name     string
		net      func(*guest.Net)
		req      []byte
		wantDrop bool
		wantType MessageType
		wantIAs  []ia
		wantSt   *statusOpt // top-level status
		noConfig bool       // no 23, 24, 39
		check    func(t *testing.T, p parsed)
	}{{
		name:     "solicit gets advertise",
		req:      msg6(MsgSolicit, clientID(), opt6(OptElapsedTime, be16(0)), iana(7), opt6(OptORO, be16(23), be16(24))),
		wantType: MsgAdvertise,
		wantIAs:  []ia{ours},
		check: func(t *testing.T, p parsed) {
			if d := cmp.Diff([]uint16{OptClientID, OptServerID, OptPreference, OptIANA, OptDNSServers, OptDomainList, OptClientFQDN}, p.codes); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
			if d := cmp.Diff([][]byte{{255}}, p.opts[OptPreference]); d != "" {
				t.Errorf("preference (-want +got):\n%s", d)
			}
			if d := cmp.Diff([][]byte{wantDNS}, p.opts[OptDNSServers]); d != "" {
				t.Errorf("DNS servers (-want +got):\n%s", d)
			}
			if d := cmp.Diff([][]byte{wantSearch}, p.opts[OptDomainList]); d != "" {
				t.Errorf("domain list (-want +got):\n%s", d)
			}
			if d := cmp.Diff([][]byte{wantFQDN}, p.opts[OptClientFQDN]); d != "" {
				t.Errorf("FQDN (-want +got):\n%s", d)
			}
		},
	}, {
		name:     "solicit hint ignored",
		req:      msg6(MsgSolicit, clientID(), iana(7, iaaddr(testOffLnk))),
		wantType: MsgAdvertise,
		wantIAs:  []ia{ours},
	}, {
		name:     "solicit with rapid commit gets reply",
		req:      msg6(MsgSolicit, clientID(), opt6(OptRapidCommit), iana(7)),
		wantType: MsgReply,
		wantIAs:  []ia{ours},
		check: func(t *testing.T, p parsed) {
			if d := cmp.Diff([][]byte{{}}, p.opts[OptRapidCommit]); d != "" {
				t.Errorf("rapid commit (-want +got):\n%s", d)
			}
			if _, ok := p.opts[OptPreference]; ok {
				t.Error("preference in a committed reply")
			}
		},
	}, {
		name:     "solicit without IA gets advertise without IA",
		req:      msg6(MsgSolicit, clientID()),
		wantType: MsgAdvertise,
	}, {
		name:     "second IA gets NoAddrsAvail",
		req:      msg6(MsgSolicit, clientID(), iana(7), iana(8)),
		wantType: MsgAdvertise,
		wantIAs:  []ia{ours, {IAID: 8, Status: &statusOpt{StatusNoAddrsAvail, msgNoAddrsAvail}}},
	}, {
		name:     "more than four IAs: the rest ignored",
		req:      msg6(MsgSolicit, clientID(), iana(7), iana(1), iana(2), iana(3), iana(4), iana(5)),
		wantType: MsgAdvertise,
		wantIAs: []ia{ours,
			{IAID: 1, Status: &statusOpt{StatusNoAddrsAvail, msgNoAddrsAvail}},
			{IAID: 2, Status: &statusOpt{StatusNoAddrsAvail, msgNoAddrsAvail}},
			{IAID: 3, Status: &statusOpt{StatusNoAddrsAvail, msgNoAddrsAvail}},
		},
	}, {
		name:     "solicit with server id dropped",
		req:      msg6(MsgSolicit, clientID(), serverID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "solicit without client id dropped",
		req:      msg6(MsgSolicit, iana(7)),
		wantDrop: true,
	}, {
		name:     "request gets reply",
		req:      msg6(MsgRequest, clientID(), serverID(), iana(7, iaaddr(testAddr))),
		wantType: MsgReply,
		wantIAs:  []ia{ours},
	}, {
		name:     "request with on-link hint gets our address",
		req:      msg6(MsgRequest, clientID(), serverID(), iana(7, iaaddr(testOnLink))),
		wantType: MsgReply,
		wantIAs:  []ia{ours},
	}, {
		name:     "request off-link gets NotOnLink in the IA",
		req:      msg6(MsgRequest, clientID(), serverID(), iana(7, iaaddr(testOffLnk))),
		wantType: MsgReply,
		wantIAs:  []ia{{IAID: 7, Status: &statusOpt{StatusNotOnLink, msgNotOnLink}}},
	}, {
		name:     "request for another server dropped",
		req:      msg6(MsgRequest, clientID(), opt6(OptServerID, []byte{0, 3, 0, 1, 1, 2, 3, 4, 5, 6}), iana(7)),
		wantDrop: true,
	}, {
		name:     "request without server id dropped",
		req:      msg6(MsgRequest, clientID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "renew gets reply, stale address with zero lifetimes",
		req:      msg6(MsgRenew, clientID(), serverID(), iana(7, iaaddr(testAddr), iaaddr(testOffLnk))),
		wantType: MsgReply,
		wantIAs: []ia{{IAID: 7, T1: Infinity, T2: Infinity, Addrs: []iaAddr{
			{testAddr, Infinity, Infinity}, {testOffLnk, 0, 0},
		}}},
	}, {
		name:     "rebind gets reply",
		req:      msg6(MsgRebind, clientID(), iana(7, iaaddr(testAddr))),
		wantType: MsgReply,
		wantIAs:  []ia{ours},
	}, {
		name:     "rebind with server id dropped",
		req:      msg6(MsgRebind, clientID(), serverID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "confirm on link gets success",
		req:      msg6(MsgConfirm, clientID(), iana(7, iaaddr(testOnLink))),
		wantType: MsgReply,
		wantSt:   &statusOpt{StatusSuccess, ""},
		noConfig: true,
	}, {
		name:     "confirm off link gets NotOnLink",
		req:      msg6(MsgConfirm, clientID(), iana(7, iaaddr(testAddr)), iana(8, iaaddr(testOffLnk))),
		wantType: MsgReply,
		wantSt:   &statusOpt{StatusNotOnLink, msgNotOnLink},
		noConfig: true,
	}, {
		name:     "confirm without addresses dropped",
		req:      msg6(MsgConfirm, clientID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "confirm with server id dropped",
		req:      msg6(MsgConfirm, clientID(), serverID(), iana(7, iaaddr(testAddr))),
		wantDrop: true,
	}, {
		name:     "release gets success",
		req:      msg6(MsgRelease, clientID(), serverID(), iana(7, iaaddr(testAddr))),
		wantType: MsgReply,
		wantSt:   &statusOpt{StatusSuccess, ""},
		noConfig: true,
	}, {
		name:     "decline gets success",
		req:      msg6(MsgDecline, clientID(), serverID(), iana(7, iaaddr(testAddr))),
		wantType: MsgReply,
		wantSt:   &statusOpt{StatusSuccess, ""},
		noConfig: true,
	}, {
		name:     "release for another server dropped",
		req:      msg6(MsgRelease, clientID(), iana(7, iaaddr(testAddr))),
		wantDrop: true,
	}, {
		name:     "information-request gets reply without IA",
		req:      msg6(MsgInformationRequest, clientID(), opt6(OptORO, be16(23), be16(24))),
		wantType: MsgReply,
	}, {
		name:     "information-request without client id gets reply",
		req:      msg6(MsgInformationRequest),
		wantType: MsgReply,
		check: func(t *testing.T, p parsed) {
			if _, ok := p.opts[OptClientID]; ok {
				t.Error("client id invented")
			}
		},
	}, {
		name:     "information-request with IA dropped",
		req:      msg6(MsgInformationRequest, clientID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "information-request with IA_PD dropped",
		req:      msg6(MsgInformationRequest, clientID(), opt6(OptIAPD, be32(1), be32(0), be32(0))),
		wantDrop: true,
	}, {
		name:     "information-request for another server dropped",
		req:      msg6(MsgInformationRequest, opt6(OptServerID, []byte{0, 3, 0, 1, 1, 2, 3, 4, 5, 6})),
		wantDrop: true,
	}, {
		name:     "server message dropped",
		req:      msg6(MsgAdvertise, clientID(), serverID()),
		wantDrop: true,
	}, {
		name:     "relay-forw dropped",
		req:      msg6(MsgRelayForw, clientID()),
		wantDrop: true,
	}, {
		name:     "short message dropped",
		req:      []byte{1, 2, 3},
		wantDrop: true,
	}, {
		name:     "truncated option header dropped",
		req:      append(msg6(MsgSolicit, clientID()), 0, 8),
		wantDrop: true,
	}, {
		name:     "option length past end dropped",
		req:      msg6(MsgSolicit, clientID(), []byte{0, 3, 0, 40, 0, 0, 0, 7}),
		wantDrop: true,
	}, {
		name:     "short IA_NA dropped",
		req:      msg6(MsgSolicit, clientID(), opt6(OptIANA, be32(7), be32(0))),
		wantDrop: true,
	}, {
		name:     "short IAADDR dropped",
		req:      msg6(MsgSolicit, clientID(), iana(7, opt6(OptIAAddr, testAddr.AsSlice()))),
		wantDrop: true,
	}, {
		name:     "malformed IA_NA options dropped",
		req:      msg6(MsgSolicit, clientID(), iana(7, []byte{0, 5, 0, 30})),
		wantDrop: true,
	}, {
		name:     "oversized client id dropped",
		req:      msg6(MsgSolicit, opt6(OptClientID, make([]byte, MaxDUIDSize+1)), iana(7)),
		wantDrop: true,
	}, {
		name:     "empty client id dropped",
		req:      msg6(MsgSolicit, opt6(OptClientID), iana(7)),
		wantDrop: true,
	}, {
		name:     "repeated client id dropped",
		req:      msg6(MsgSolicit, clientID(), clientID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "largest client id echoed",
		req:      msg6(MsgSolicit, opt6(OptClientID, bytes.Repeat([]byte{9}, MaxDUIDSize)), iana(7)),
		wantType: MsgAdvertise,
		wantIAs:  []ia{ours},
	}, {
		name: "nothing to configure: 23, 24, 39 omitted",
		net: func(n *guest.Net) {
			n.V6.DNS = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
			n.Search = []string{".", "a..b"}
			n.FQDN = ""
		},
		req:      msg6(MsgSolicit, clientID(), iana(7)),
		wantType: MsgAdvertise,
		wantIAs:  []ia{ours},
		noConfig: true,
	}, {
		name: "search list too long for the reply left out",
		net: func(n *guest.Net) {
			n.Search = nil
			for i := range 30 {
				n.Search = append(n.Search, strings.Repeat(string(rune('a'+i%26)), 60)+".example.org")
			}
		},
		req:      msg6(MsgSolicit, clientID(), iana(7)),
		wantType: MsgAdvertise,
		wantIAs:  []ia{ours},
		check: func(t *testing.T, p parsed) {
			if _, ok := p.opts[OptDomainList]; ok {
				t.Error("domain list in a reply it cannot fit")
			}
			if _, ok := p.opts[OptClientFQDN]; !ok {
				t.Error("FQDN missing although it fits")
			}
		},
	}, {
		name:     "dhcpv6 disabled",
		net:      func(n *guest.Net) { n.NoDHCPv6 = true },
		req:      msg6(MsgSolicit, clientID(), iana(7)),
		wantDrop: true,
	}, {
		name:     "ipv6 disabled",
		net:      func(n *guest.Net) { n.V6.Addr = netip.Addr{} },
		req:      msg6(MsgSolicit, clientID(), iana(7)),
		wantDrop: true,
	}}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testNet()
			if tt.net != nil {
				tt.net(n)
			}
			out := make([]byte, MaxReplySize)
			m, ok := Reply(n, tt.req, out)
			if ok == tt.wantDrop {
				t.Fatalf("Reply ok = %v, want %v", ok, !tt.wantDrop)
			}
			if !ok {
				return
			}
			if m > MaxReplySize {
				t.Fatalf("reply of %d bytes", m)
			}
			p := parseReply(t, out[:m])
			if p.typ != tt.wantType || p.xid != testXID {
				t.Errorf("type %v xid %#x, want %v %#x", p.typ, p.xid, tt.wantType, testXID)
			}
			if d := cmp.Diff([][]byte{ourDUID}, p.opts[OptServerID]); d != "" {
				t.Errorf("server id (-want +got):\n%s", d)
			}
			if cid, ok := Message(tt.req).Options().Find(OptClientID); ok {
				if d := cmp.Diff([][]byte{cid}, p.opts[OptClientID]); d != "" {
					t.Errorf("client id (-want +got):\n%s", d)
				}
			}
			if d := cmp.Diff(tt.wantIAs, p.ias(t), addrCmp); d != "" {
				t.Errorf("IA_NA (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantSt, p.status()); d != "" {
				t.Errorf("status (-want +got):\n%s", d)
			}
			_, hasDNS := p.opts[OptDNSServers]
			if hasDNS == tt.noConfig {
				t.Errorf("DNS servers present: %v, want %v", hasDNS, !tt.noConfig)
			}
			if tt.noConfig {
				for _, c := range []uint16{OptDomainList, OptClientFQDN} {
					if _, ok := p.opts[c]; ok {
						t.Errorf("option %d present", c)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// TestReplyGolden pins one complete ADVERTISE.
func TestReplyGolden(t *testing.T) {
	n := &guest.Net{
		OurMAC: guest.DefaultOurMAC,
		Search: []string{"lan"},
		V6: guest.Family{
			Addr:      netip.MustParseAddr("2001:db8::2"),
			PrefixLen: 64,
			DNS:       []netip.Addr{netip.MustParseAddr("2001:db8::1")},
		},
	}
	req := msg6(MsgSolicit, opt6(OptClientID, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 1}), iana(0xabcd))
	want := []byte{
		2,                // msg-type: ADVERTISE
		0x12, 0x34, 0x56, // transaction-id: copied
		0, 1, 0, 10, // option 1, client identifier, 10 bytes: copied
		0, 3, 0, 1, 2, 0, 0, 0, 0, 1,
		0, 2, 0, 10, // option 2, server identifier, 10 bytes
		0, 3, 0, 1, // DUID-LL, Ethernet
		0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55, // our MAC
		0, 7, 0, 1, 255, // option 7, preference: 255
		0, 3, 0, 40, // option 3, IA_NA, 40 bytes
		0, 0, 0xab, 0xcd, // IAID: copied
		0xff, 0xff, 0xff, 0xff, // T1: infinity
		0xff, 0xff, 0xff, 0xff, // T2: infinity
		0, 5, 0, 24, // option 5, IA address, 24 bytes
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // 2001:db8::2
		0xff, 0xff, 0xff, 0xff, // preferred lifetime: infinity
		0xff, 0xff, 0xff, 0xff, // valid lifetime: infinity
		0, 23, 0, 16, // option 23, DNS servers, 16 bytes
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // 2001:db8::1
		0, 24, 0, 5, // option 24, domain list, 5 bytes
		3, 'l', 'a', 'n', 0, // "lan."
	}
	out := make([]byte, MaxReplySize)
	m, ok := Reply(n, req, out)
	if !ok {
		t.Fatal("no reply")
	}
	if d := cmp.Diff(want, out[:m]); d != "" {
		t.Errorf("ADVERTISE (-want +got):\n%s", d)
	}
}

// TestReplyStateless checks that answers depend only on the request, even
// in a dirty buffer.
func TestReplyStateless(t *testing.T) {
	n := testNet()
	req := msg6(MsgSolicit, clientID(), iana(7))
	out1 := make([]byte, MaxReplySize)
	out2 := bytes.Repeat([]byte{0xa5}, MaxReplySize)
	m1, ok1 := Reply(n, req, out1)
	Reply(n, msg6(MsgConfirm, clientID(), iana(8, iaaddr(testOffLnk))), out2)
	m2, ok2 := Reply(n, req, out2)
	if !ok1 || !ok2 || !bytes.Equal(out1[:m1], out2[:m2]) {
		t.Errorf("replies differ:\n% x\n% x", out1[:m1], out2[:m2])
	}
}

func TestReplyShortBuffer(t *testing.T) {
	n := testNet()
	req := msg6(MsgSolicit, clientID(), iana(7))
	if _, ok := Reply(n, req, make([]byte, 40)); ok {
		t.Error("reply into a buffer too short for the essentials")
	}
	out := make([]byte, 100)
	m, ok := Reply(n, req, out)
	if !ok {
		t.Fatal("no reply into a buffer holding the essentials")
	}
	p := parseReply(t, out[:m])
	if len(p.ias(t)) != 1 || len(p.opts[OptServerID]) != 1 {
		t.Errorf("essentials missing: %v", p.codes)
	}
}

func TestReplyAllocs(t *testing.T) {
	n := testNet()
	reqs := [][]byte{
		msg6(MsgSolicit, clientID(), iana(7)),
		msg6(MsgRenew, clientID(), serverID(), iana(7, iaaddr(testAddr), iaaddr(testOffLnk))),
		msg6(MsgConfirm, clientID(), iana(7, iaaddr(testAddr))),
		msg6(MsgInformationRequest, clientID()),
	}
	out := make([]byte, MaxReplySize)
	for _, req := range reqs {
		if a := testing.AllocsPerRun(100, func() {
			if _, ok := Reply(n, req, out); !ok {
				t.Fatal("no reply")
			}
		}); a != 0 {
			t.Errorf("Reply(%v) allocates %v times per call", Message(req).Type(), a)
		}
	}
}

func BenchmarkReply(b *testing.B) {
	n := testNet()
	req := msg6(MsgSolicit, clientID(), opt6(OptElapsedTime, be16(0)), iana(7), opt6(OptORO, be16(23), be16(24)))
	out := make([]byte, MaxReplySize)
	b.ReportAllocs()
	for b.Loop() {
		Reply(n, req, out)
	}
}

// TestReplyAcceptedByClients checks what busybox udhcpc6 and dhclient -6
// look for: the transaction-id, a server identifier (both store it for
// REQUEST), the client identifier echoed (dhclient compares it), the IA_NA
// with the IAID they sent and an IAADDR whose preferred lifetime does not
// exceed its valid one, and T1 <= T2 (dhclient ignores an IA otherwise).
func TestReplyAcceptedByClients(t *testing.T) {
	n := testNet()
	for _, req := range [][]byte{
		msg6(MsgSolicit, clientID(), iana(0xdeadbeef), opt6(OptORO, be16(23), be16(24))),
		msg6(MsgRequest, clientID(), serverID(), iana(0xdeadbeef, iaaddr(testAddr))),
	} {
		out := make([]byte, MaxReplySize)
		m, ok := Reply(n, req, out)
		if !ok {
			t.Fatal("no reply")
		}
		p := parseReply(t, out[:m])
		if p.xid != testXID || len(p.opts[OptServerID]) != 1 || !bytes.Equal(p.opts[OptClientID][0], testDUID) {
			t.Errorf("identifiers wrong: %v", p.codes)
		}
		ias := p.ias(t)
		if len(ias) != 1 || ias[0].IAID != 0xdeadbeef || ias[0].T1 > ias[0].T2 || len(ias[0].Addrs) != 1 {
			t.Fatalf("IA_NA %+v", ias)
		}
		if a := ias[0].Addrs[0]; a.Preferred > a.Valid || a.Addr != testAddr {
			t.Errorf("IAADDR %+v", a)
		}
	}
}
