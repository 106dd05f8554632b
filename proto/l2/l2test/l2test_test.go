// SPDX-License-Identifier: GPL-2.0-or-later

package l2test_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

var (
	g4 = netip.MustParseAddrPort("10.0.2.15:40000")
	h4 = netip.MustParseAddrPort("10.0.2.2:80")
	g6 = netip.MustParseAddrPort("[2001:db8::15]:40000")
	h6 = netip.MustParseAddrPort("[2001:db8::2]:80")
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r)
}

// run runs check against a recorder and returns the failures.
func run(t *testing.T, check func(testing.TB)) (errs []string) {
	r := &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		errs = r.errs
	}()
	check(r)
	return r.errs
}

func TestCheckersPassAndFail(t *testing.T) {
	syn := l2test.TCP4(g4, h4, l2test.SYN, 100, 0, nil, l2test.WithMSS(1460), l2test.WithWS(7), l2test.WithTTL(33))
	tests := []struct {
		name    string
		check   func(testing.TB)
		wantErr string // "" = must pass
	}{
		{"tcp4 matches", func(tb testing.TB) {
			l2test.IPv4(tb, syn, l2test.SrcAddr(g4.Addr()), l2test.DstAddr(h4.Addr()), l2test.TTL(33),
				l2test.SrcMAC(l2test.GuestMAC), l2test.DstMAC(l2test.OurMAC), l2test.VLANTags(0),
				l2test.TCP(l2test.SrcPort(40000), l2test.DstPort(80), l2test.TCPFlags(l2test.SYN), l2test.SeqNum(100),
					l2test.AckNum(0), l2test.Window(65535), l2test.MSS(1460), l2test.WindowScale(7), l2test.PayloadLen(0)))
		}, ""},
		{"wrong port", func(tb testing.TB) { l2test.IPv4(tb, syn, l2test.TCP(l2test.DstPort(81))) }, "destination port = 80, want 81"},
		{"wrong flags", func(tb testing.TB) {
			l2test.IPv4(tb, syn, l2test.TCP(l2test.TCPFlags(l2test.SYN|l2test.ACK)))
		}, "TCP flags = syn, want syn|ack"},
		{"wrong protocol", func(tb testing.TB) { l2test.IPv4(tb, syn, l2test.UDP()) }, "want UDP"},
		{"wrong family", func(tb testing.TB) { l2test.IPv6(tb, syn) }, "EtherType = 0x0800"},
		{"bad l4 checksum", func(tb testing.TB) {
			l2test.IPv4(tb, l2test.TCP4(g4, h4, l2test.ACK, 1, 1, nil, l2test.WithBadL4Checksum()))
		}, "bad 6 checksum"},
		{"bad ip checksum", func(tb testing.TB) {
			l2test.IPv4(tb, l2test.UDP4(g4, h4, nil, l2test.WithBadIPChecksum()))
		}, "checksum mismatch"},
		{"no options", func(tb testing.TB) { l2test.IPv4(tb, syn, l2test.TCP(l2test.NoTCPOptions())) }, "TCP options ="},
		{"udp6 vlan", func(tb testing.TB) {
			l2test.IPv6(tb, l2test.UDP6(g6, h6, []byte("hi"), l2test.WithVLAN(4), l2test.WithTOS(0xb8), l2test.WithFlowLabel(5)),
				l2test.VLANTags(1), l2test.TOS(0xb8), l2test.UDP(l2test.SrcPort(40000), l2test.Payload([]byte("hi"))))
		}, ""},
		{"echo reply", func(tb testing.TB) {
			l2test.IPv4(tb, l2test.Echo4(g4.Addr(), h4.Addr(), 5, 6, []byte("p"), l2test.WithICMPType(l2.ICMPv4EchoReply)),
				l2test.ICMPv4(l2test.ICMPType(l2.ICMPv4EchoReply), l2test.ICMPCode(0), l2test.EchoIdent(5), l2test.EchoSeq(6)))
		}, ""},
		{"echo6 wrong seq", func(tb testing.TB) {
			l2test.IPv6(tb, l2test.Echo6(g6.Addr(), h6.Addr(), 5, 6, nil), l2test.ICMPv6(l2test.EchoSeq(7)))
		}, "echo sequence = 6, want 7"},
		{"arp", func(tb testing.TB) {
			l2test.ARP(tb, l2test.ARPRequest(l2test.GuestMAC, g4.Addr(), h4.Addr()), l2test.ARPOp(l2.ARPRequest),
				l2test.DstMAC(l2.BroadcastMAC), l2test.ARPSender(l2test.GuestMAC, g4.Addr()), l2test.ARPTarget([6]byte{}, h4.Addr()))
		}, ""},
		{"arp reply wrong op", func(tb testing.TB) {
			l2test.ARP(tb, l2test.ARPReply(l2test.OurMAC, h4.Addr(), l2test.GuestMAC, g4.Addr()), l2test.ARPOp(l2.ARPRequest))
		}, "ARP op = 2"},
		{"rs without address", func(tb testing.TB) {
			l2test.IPv6(tb, l2test.RouterSolicit(netip.IPv6Unspecified()), l2test.DstAddr(l2test.AllRouters),
				l2test.ICMPv6(l2test.ICMPType(l2.ICMPv6RouterSolicit), l2test.NDPOption(l2.NDPOptionSourceLLA, l2test.GuestMAC)))
		}, "NDP option 1"},
		{"ns dad", func(tb testing.TB) {
			l2test.IPv6(tb, l2test.NeighborSolicit(netip.IPv6Unspecified(), g6.Addr()), l2test.TTL(255),
				l2test.ICMPv6(l2test.NDPTarget(g6.Addr())))
		}, ""},
		{"icmpv6 message", func(tb testing.TB) {
			l2test.IPv6(tb, l2test.ICMPv6Message(h6.Addr(), g6.Addr(), l2.ICMPv6PacketTooBig, 0, []byte{0, 0, 5, 0xdc}),
				l2test.ICMPv6(l2test.ICMPType(l2.ICMPv6PacketTooBig), l2test.PayloadLen(4)))
		}, ""},
		{"garbage frame", func(tb testing.TB) { l2test.IPv4(tb, []byte{1, 2, 3}) }, "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := run(t, tt.check)
			if tt.wantErr == "" {
				if len(errs) != 0 {
					t.Errorf("unexpected failures: %q", errs)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tt.wantErr) {
				t.Errorf("failures %q, want one containing %q", errs, tt.wantErr)
			}
		})
	}
}

func TestSolicitedNode(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::12:3456")
	if got, want := l2test.SolicitedNode(a), netip.MustParseAddr("ff02::1:ff12:3456"); got != want {
		t.Errorf("SolicitedNode = %v, want %v", got, want)
	}
	if got := l2test.MulticastMAC(l2test.AllNodes); got != [6]byte{0x33, 0x33, 0, 0, 0, 1} {
		t.Errorf("MulticastMAC = %x", got)
	}
}
