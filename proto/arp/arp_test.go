// SPDX-License-Identifier: GPL-2.0-or-later

package arp

import (
	"bytes"
	"net/netip"
	"testing"

	"gopasst/guest"
	"gopasst/proto/l2"
)

var (
	guestMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	guestIP  = netip.MustParseAddr("192.0.2.10")
	gwIP     = netip.MustParseAddr("192.0.2.1")
	zeroIP   = netip.IPv4Unspecified()
)

func testNet() *guest.Net {
	return &guest.Net{
		OurMAC:   guest.DefaultOurMAC,
		GuestMAC: guest.MAC(guestMAC),
		V4:       guest.Family{Addr: guestIP, PrefixLen: 24, Gateway: gwIP},
	}
}

func request(op uint16, sha [6]byte, spa netip.Addr, tpa netip.Addr) l2.ARP {
	b := make(l2.ARP, l2.ARPSize)
	b.Encode(op, sha, spa, [6]byte{}, tpa)
	return b
}

func TestReply(t *testing.T) {
	tests := []struct {
		name   string
		net    func(*guest.Net)
		req    l2.ARP
		want   bool
		wantTP netip.Addr // target protocol address of the reply
	}{
		{name: "gateway", req: request(l2.ARPRequest, guestMAC, guestIP, gwIP), want: true, wantTP: guestIP},
		{name: "host on subnet", req: request(l2.ARPRequest, guestMAC, guestIP, netip.MustParseAddr("192.0.2.77")), want: true, wantTP: guestIP},
		{name: "off-link address", req: request(l2.ARPRequest, guestMAC, guestIP, netip.MustParseAddr("198.51.100.3")), want: true, wantTP: guestIP},
		{name: "probe for other address", req: request(l2.ARPRequest, guestMAC, zeroIP, gwIP), want: true, wantTP: zeroIP},
		{name: "probe for guest address", req: request(l2.ARPRequest, guestMAC, zeroIP, guestIP)},
		{name: "guest's own address", req: request(l2.ARPRequest, guestMAC, netip.MustParseAddr("192.0.2.99"), guestIP)},
		{name: "gratuitous", req: request(l2.ARPRequest, guestMAC, guestIP, guestIP)},
		{name: "gratuitous other address", req: request(l2.ARPRequest, guestMAC, gwIP, gwIP)},
		{name: "zero target", req: request(l2.ARPRequest, guestMAC, guestIP, zeroIP)},
		{name: "reply op", req: request(l2.ARPReply, guestMAC, guestIP, gwIP)},
		{name: "unknown op", req: request(3, guestMAC, guestIP, gwIP)},
		{name: "short", req: request(l2.ARPRequest, guestMAC, guestIP, gwIP)[:27]},
		{name: "empty", req: l2.ARP{}},
		{name: "bad hardware type", req: func() l2.ARP { b := request(l2.ARPRequest, guestMAC, guestIP, gwIP); b[1] = 6; return b }()},
		{name: "bad protocol", req: func() l2.ARP {
			b := request(l2.ARPRequest, guestMAC, guestIP, gwIP)
			b[2] = 0x86
			b[3] = 0xdd
			return b
		}()},
		{name: "bad hlen", req: func() l2.ARP { b := request(l2.ARPRequest, guestMAC, guestIP, gwIP); b[4] = 8; return b }()},
		{name: "bad plen", req: func() l2.ARP { b := request(l2.ARPRequest, guestMAC, guestIP, gwIP); b[5] = 16; return b }()},
		{name: "ipv4 disabled", net: func(n *guest.Net) { n.V4.Addr = netip.Addr{} }, req: request(l2.ARPRequest, guestMAC, guestIP, gwIP)},
		{name: "trailing padding", req: append(request(l2.ARPRequest, guestMAC, guestIP, gwIP), make([]byte, 18)...), want: true, wantTP: guestIP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := testNet()
			if tc.net != nil {
				tc.net(n)
			}
			out := make(l2.ARP, l2.ARPSize)
			if got := Reply(n, tc.req, out); got != tc.want {
				t.Fatalf("Reply = %v, want %v", got, tc.want)
			}
			if !tc.want {
				if !bytes.Equal(out, make([]byte, l2.ARPSize)) {
					t.Errorf("out written although no reply: % x", []byte(out))
				}
				return
			}
			if !out.IsValid() || out.Op() != l2.ARPReply {
				t.Fatalf("reply not a valid ARP reply: % x", []byte(out))
			}
			if out.SenderHW() != [6]byte(n.OurMAC) || out.SenderIP() != tc.req.TargetIP() {
				t.Errorf("sender = %x %v, want %x %v", out.SenderHW(), out.SenderIP(), n.OurMAC, tc.req.TargetIP())
			}
			if out.TargetHW() != guestMAC || out.TargetIP() != tc.wantTP {
				t.Errorf("target = %x %v, want %x %v", out.TargetHW(), out.TargetIP(), guestMAC, tc.wantTP)
			}
		})
	}
}

// TestReplyGolden pins the wire format of a reply.
func TestReplyGolden(t *testing.T) {
	req := request(l2.ARPRequest, guestMAC, guestIP, gwIP)
	out := make(l2.ARP, l2.ARPSize)
	if !Reply(testNet(), req, out) {
		t.Fatal("no reply")
	}
	want := []byte{
		0x00, 0x01, // hardware type: Ethernet
		0x08, 0x00, // protocol type: IPv4
		0x06,       // hardware address length
		0x04,       // protocol address length
		0x00, 0x02, // op: reply
		0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55, // sender MAC: ours
		192, 0, 2, 1, // sender IP: the requested address
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // target MAC: the guest
		192, 0, 2, 10, // target IP: the guest
	}
	if !bytes.Equal(out, want) {
		t.Errorf("reply\n got % x\nwant % x", []byte(out), want)
	}
}

func TestReplyInPlace(t *testing.T) {
	b := request(l2.ARPRequest, guestMAC, guestIP, gwIP)
	if !Reply(testNet(), b, b) {
		t.Fatal("no reply")
	}
	if b.Op() != l2.ARPReply || b.SenderIP() != gwIP || b.TargetIP() != guestIP || b.TargetHW() != guestMAC {
		t.Errorf("in-place reply wrong: % x", []byte(b))
	}
}

func TestReplyShortOut(t *testing.T) {
	if Reply(testNet(), request(l2.ARPRequest, guestMAC, guestIP, gwIP), make(l2.ARP, l2.ARPSize-1)) {
		t.Fatal("Reply wrote into a too short buffer")
	}
}

func TestReplyAllocs(t *testing.T) {
	n := testNet()
	req := request(l2.ARPRequest, guestMAC, guestIP, gwIP)
	out := make(l2.ARP, l2.ARPSize)
	if a := testing.AllocsPerRun(1000, func() { Reply(n, req, out) }); a != 0 {
		t.Errorf("Reply: %v allocs, want 0", a)
	}
}

func FuzzReply(f *testing.F) {
	f.Add([]byte(request(l2.ARPRequest, guestMAC, guestIP, gwIP)))
	f.Add([]byte(request(l2.ARPRequest, guestMAC, zeroIP, guestIP)))
	f.Add([]byte(request(l2.ARPReply, guestMAC, guestIP, gwIP)))
	f.Add([]byte{0, 1, 8, 0, 6, 4, 0, 1})
	n := testNet()
	f.Fuzz(func(t *testing.T, b []byte) {
		out := make(l2.ARP, l2.ARPSize)
		if !Reply(n, l2.ARP(b), out) {
			return
		}
		req := l2.ARP(b)
		// Invariants of every reply.
		if !out.IsValid() || out.Op() != l2.ARPReply || out.SenderHW() != [6]byte(n.OurMAC) {
			t.Fatalf("malformed reply % x", []byte(out))
		}
		if out.SenderIP() == n.V4.Addr || out.SenderIP().IsUnspecified() {
			t.Fatalf("answered for %v", out.SenderIP())
		}
		if out.TargetHW() != req.SenderHW() || out.TargetIP() != req.SenderIP() {
			t.Fatalf("reply not addressed to the requester")
		}
	})
}
