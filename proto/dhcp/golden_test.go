// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopasst/guest"
)

// TestGoldenOffer pins one complete DHCPOFFER byte by byte.
func TestGoldenOffer(t *testing.T) {
	n := &guest.Net{
		MTU: 1500,
		V4: guest.Family{
			Addr:      netip.MustParseAddr("10.0.2.15"),
			PrefixLen: 24,
			Gateway:   netip.MustParseAddr("10.0.2.2"),
			DNS:       []netip.Addr{netip.MustParseAddr("10.0.2.3")},
		},
	}
	req := testReq{flags: FlagBroadcast, opts: [][]byte{msgType(Discover)}}.build()

	want := slices.Concat(
		[]byte{
			0x02,                   // op: BOOTREPLY
			0x01,                   // htype: Ethernet
			0x06,                   // hlen: 6
			0x00,                   // hops: 0
			0xde, 0xad, 0xbe, 0xef, // xid: copied from the request
			0x00, 0x00, // secs: 0
			0x80, 0x00, // flags: broadcast bit copied from the request
			0x00, 0x00, 0x00, 0x00, // ciaddr: 0 in an OFFER
			0x0a, 0x00, 0x02, 0x0f, // yiaddr: 10.0.2.15
			0x00, 0x00, 0x00, 0x00, // siaddr: 0
			0x00, 0x00, 0x00, 0x00, // giaddr: copied (0)
			0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // chaddr: the client's MAC
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // chaddr: padding to 16 bytes
		},
		make([]byte, 64),  // sname: empty
		make([]byte, 128), // file: empty
		[]byte{
			0x63, 0x82, 0x53, 0x63, // magic cookie
			53, 1, 2, // option 53, message type: DHCPOFFER
			1, 4, 255, 255, 255, 0, // option 1, subnet mask: /24
			3, 4, 10, 0, 2, 2, // option 3, router: 10.0.2.2
			6, 4, 10, 0, 2, 3, // option 6, DNS: 10.0.2.3
			26, 2, 0x05, 0xdc, // option 26, interface MTU: 1500
			51, 4, 0xff, 0xff, 0xff, 0xff, // option 51, lease time: infinite
			54, 4, 10, 0, 2, 2, // option 54, server identifier: the gateway
			255, // end
		},
		make([]byte, 22), // pad to the 300-byte BOOTP minimum
	)

	out := make([]byte, MaxReplySize)
	m, bcast, ok := Reply(n, req, out)
	if !ok || !bcast {
		t.Fatalf("Reply: ok %v broadcast %v", ok, bcast)
	}
	if d := cmp.Diff(want, out[:m]); d != "" {
		t.Errorf("OFFER (-want +got):\n%s", d)
	}
}
