// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

const (
	l3   = l2.EthernetSize
	l4v4 = l3 + l2.IPv4MinSize
	l4v6 = l3 + l2.IPv6MinSize
)

func TestFrameParseMalformed(t *testing.T) {
	tcp4 := l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, []byte("hello"), l2test.WithMSS(1460))
	tcp6 := l2test.TCP6(guest6, host6, l2test.ACK, 1, 2, []byte("hello"))
	udp4 := l2test.UDP4(guest4, host4, []byte("dns?"))
	udp6 := l2test.UDP6(guest6, host6, []byte("dns?"))
	icmp4 := l2test.Echo4(guest4.Addr(), host4.Addr(), 1, 2, nil)
	icmp6 := l2test.Echo6(guest6.Addr(), host6.Addr(), 1, 2, nil)
	arp := l2test.ARPRequest(l2test.GuestMAC, guest4.Addr(), host4.Addr())
	vlan := l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil, l2test.WithVLAN(7))
	qinq := l2test.UDP6(guest6, host6, nil, l2test.WithVLAN(7), l2test.WithVLAN(8))

	setTotalLen := func(n int) func([]byte) []byte {
		return func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[l3+2:], uint16(n))
			fixIPv4Checksum(b, l3)
			return b
		}
	}
	setIHL := func(ihl byte) func([]byte) []byte {
		return func(b []byte) []byte { b[l3] = 0x40 | ihl; return b }
	}
	setDoff := func(off int, words byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off+12] = words << 4; return b }
	}
	// tcp4Opts builds an IPv4 TCP frame whose options area is opts.
	tcp4Opts := func(opts []byte) []byte {
		return l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil, l2test.WithTCPOptions(opts))
	}
	udp6In := func(b []byte) []byte { // a UDP header claiming more than present
		u := make([]byte, 8)
		binary.BigEndian.PutUint16(u[4:], 100)
		return u
	}

	tests := []struct {
		name  string
		frame []byte
		flags l2.ParseFlags
		want  error
	}{
		{"empty", nil, 0, l2.ErrTruncated},
		{"ethernet 13 bytes", tcp4[:13], 0, l2.ErrTruncated},
		{"ethernet only ipv4", tcp4[:l3], 0, l2.ErrTruncated},
		{"ethernet only ipv6", tcp6[:l3], 0, l2.ErrTruncated},
		{"vlan tag truncated", vlan[:l3+1], 0, l2.ErrTruncated},
		{"vlan tag without inner type", vlan[:l3+2], 0, l2.ErrTruncated},
		{"vlan inner ipv4 truncated", vlan[:l3+4+10], 0, l2.ErrTruncated},
		{"qinq inner ipv6 truncated", qinq[:l3+8+39], 0, l2.ErrTruncated},
		{"three vlan tags", l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil,
			l2test.WithVLAN(1), l2test.WithVLAN(2), l2test.WithVLAN(3)), 0, l2.ErrVLANDepth},
		{"vlan tag stack of 0x8100s", mutate(qinq, func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[12:], l2.EtherTypeVLAN)
			binary.BigEndian.PutUint16(b[20:], l2.EtherTypeVLAN)
			return b
		}), 0, l2.ErrVLANDepth},
		{"unknown ethertype", mutate(tcp4, func(b []byte) []byte { b[12], b[13] = 0x88, 0xcc; return b }), 0, l2.ErrEtherType},
		{"vlan with bad ihl", mutate(vlan, func(b []byte) []byte { b[l3+4] = 0x43; return b }), 0, l2.ErrBadIHL},
		{"arp truncated", arp[:l3+l2.ARPSize-1], 0, l2.ErrTruncated},
		{"arp hardware type", mutate(arp, func(b []byte) []byte { b[l3+1] = 6; return b }), 0, l2.ErrARP},
		{"arp protocol type", mutate(arp, func(b []byte) []byte { b[l3+2] = 0x86; return b }), 0, l2.ErrARP},
		{"arp hardware length", mutate(arp, func(b []byte) []byte { b[l3+4] = 8; return b }), 0, l2.ErrARP},
		{"ipv4 truncated 19", tcp4[:l3+19], 0, l2.ErrTruncated},
		{"ipv4 version 6", mutate(tcp4, func(b []byte) []byte { b[l3] = 0x65; return b }), 0, l2.ErrIPVersion},
		{"ipv4 ihl 0", mutate(tcp4, setIHL(0)), 0, l2.ErrBadIHL},
		{"ipv4 ihl 4", mutate(tcp4, setIHL(4)), 0, l2.ErrBadIHL},
		{"ipv4 ihl 15 past frame", mutate(tcp4[:l3+40], setIHL(15)), 0, l2.ErrTruncated},
		{"ipv4 total length below ihl", mutate(tcp4, setTotalLen(19)), 0, l2.ErrIPv4Length},
		{"ipv4 total length past frame", mutate(tcp4, setTotalLen(len(tcp4)-l3+1)), 0, l2.ErrIPv4Length},
		{"ipv4 frame shorter than total length", tcp4[:len(tcp4)-1], 0, l2.ErrIPv4Length},
		{"ipv4 bad header checksum", l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil, l2test.WithBadIPChecksum()),
			l2.CheckIPv4Checksum, l2.ErrIPv4Checksum},
		{"tcp truncated 19", mutate(tcp4, setTotalLen(20+19)), 0, l2.ErrTruncated},
		{"tcp data offset 0", mutate(tcp4, setDoff(l4v4, 0)), 0, l2.ErrTCPDataOffset},
		{"tcp data offset 4", mutate(tcp4, setDoff(l4v4, 4)), 0, l2.ErrTCPDataOffset},
		{"tcp data offset 15 past end", mutate(tcp4, setDoff(l4v4, 15)), 0, l2.ErrTCPDataOffset},
		{"tcp data offset past total length", mutate(tcp4, func(b []byte) []byte {
			return setTotalLen(20 + 22)(b) // header is 24 bytes (MSS)
		}), 0, l2.ErrTCPDataOffset},
		{"tcp option length 0", tcp4Opts([]byte{2, 0, 0, 0}), l2.CheckTCPOptions, l2.ErrTCPOptions},
		{"tcp option length 1", tcp4Opts([]byte{1, 1, 8, 1}), l2.CheckTCPOptions, l2.ErrTCPOptions},
		{"tcp option overruns", tcp4Opts([]byte{1, 1, 8, 10, 0, 0, 0, 0}), l2.CheckTCPOptions, l2.ErrTCPOptions},
		{"tcp option missing length", tcp4Opts([]byte{1, 1, 1, 2}), l2.CheckTCPOptions, l2.ErrTCPOptions},
		{"tcp sack option overruns", tcp4Opts([]byte{1, 1, 5, 42, 0, 0, 0, 0}), l2.CheckTCPOptions, l2.ErrTCPOptions},
		{"udp truncated 7", mutate(udp4, setTotalLen(20+7)), 0, l2.ErrTruncated},
		{"udp length 7", mutate(udp4, func(b []byte) []byte { b[l4v4+5] = 7; return b }), 0, l2.ErrUDPLength},
		{"udp length 0", mutate(udp4, func(b []byte) []byte { b[l4v4+4], b[l4v4+5] = 0, 0; return b }), 0, l2.ErrUDPLength},
		{"udp length past packet", mutate(udp4, func(b []byte) []byte { b[l4v4+5]++; return b }), 0, l2.ErrUDPLength},
		{"icmp truncated 7", mutate(icmp4, setTotalLen(20+7)), 0, l2.ErrTruncated},
		{"ipv6 truncated 39", tcp6[:l3+39], 0, l2.ErrTruncated},
		{"ipv6 version 4", mutate(tcp6, func(b []byte) []byte { b[l3] = 0x40; return b }), 0, l2.ErrIPVersion},
		{"ipv6 payload length past frame", tcp6[:len(tcp6)-1], 0, l2.ErrIPv6Length},
		{"ipv6 tcp truncated", ipv6Raw(l2.ProtoTCP, make([]byte, 19)), 0, l2.ErrTruncated},
		{"ipv6 tcp data offset past end", mutate(tcp6, setDoff(l4v6, 7)), 0, l2.ErrTCPDataOffset},
		{"ipv6 udp truncated", ipv6Raw(l2.ProtoUDP, make([]byte, 7)), 0, l2.ErrTruncated},
		{"ipv6 udp length past packet", ipv6Raw(l2.ProtoUDP, udp6In(nil)), 0, l2.ErrUDPLength},
		{"ipv6 udp length below 8", mutate(udp6, func(b []byte) []byte { b[l4v6+4], b[l4v6+5] = 0, 4; return b }), 0, l2.ErrUDPLength},
		{"icmpv6 truncated 3", ipv6Raw(l2.ProtoICMPv6, []byte{135, 0, 0}), 0, l2.ErrTruncated},
		{"icmpv6 echo truncated 7", mutate(icmp6, func(b []byte) []byte {
			b = b[:len(b)-1]
			binary.BigEndian.PutUint16(b[l3+4:], 7)
			return b
		}), 0, l2.ErrTruncated},
		{"ext header truncated", ipv6Raw(l2.ProtoHopByHop, []byte{6, 0, 1, 4, 0}), 0, l2.ErrExtHeaderLength},
		{"ext header length overruns", ipv6Raw(l2.ProtoDestOpts, []byte{6, 1, 1, 4, 0, 0, 0, 0}), 0, l2.ErrExtHeaderLength},
		{"ext header routing overruns", ipv6Raw(l2.ProtoRouting, cat(ext(l2.ProtoNoNext)[:1], []byte{255, 0, 0, 0, 0, 0, 0})), 0, l2.ErrExtHeaderLength},
		{"ext header AH overruns", ipv6Raw(l2.ProtoAH, []byte{6, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 0, l2.ErrExtHeaderLength},
		{"ext header fragment truncated", ipv6Raw(l2.ProtoFragment, []byte{6, 0, 0, 0}), 0, l2.ErrExtHeaderLength},
		{"ext header hop-by-hop not first", ipv6Raw(l2.ProtoDestOpts, cat(ext(l2.ProtoHopByHop), ext(l2.ProtoNoNext))), 0, l2.ErrExtHeaderOrder},
		{"ext header hop-by-hop loop", ipv6Raw(l2.ProtoHopByHop, cat(ext(l2.ProtoHopByHop), ext(l2.ProtoHopByHop))), 0, l2.ErrExtHeaderOrder},
		{"ext header chain too long", ipv6Raw(l2.ProtoDestOpts, cat(
			ext(60), ext(60), ext(60), ext(60), ext(60), ext(60), ext(60), ext(60), ext(l2.ProtoNoNext))), 0, l2.ErrExtHeaderChain},
		{"ext header two fragment headers", ipv6Raw(l2.ProtoFragment, cat(fragHdr(l2.ProtoFragment, 0, false),
			fragHdr(l2.ProtoTCP, 0, false), tcpHdr(nil))), 0, l2.ErrExtHeaderChain},
		{"ext header chain past payload length", mutate(ipv6Raw(l2.ProtoDestOpts, cat(ext(l2.ProtoTCP), tcpHdr(nil))),
			func(b []byte) []byte { binary.BigEndian.PutUint16(b[l3+4:], 4); return b }), 0, l2.ErrExtHeaderLength},
		{"tcp after ext headers truncated", ipv6Raw(l2.ProtoHopByHop, cat(ext(l2.ProtoDestOpts), ext(l2.ProtoTCP), make([]byte, 12))), 0, l2.ErrTruncated},
		{"tcp after ext headers bad data offset", ipv6Raw(l2.ProtoDestOpts, cat(ext(l2.ProtoTCP),
			mutate(tcpHdr(nil), func(b []byte) []byte { b[12] = 0x30; return b }))), 0, l2.ErrTCPDataOffset},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := l2.Frame{Flags: tt.flags}
			err := f.Parse(tt.frame)
			if !errors.Is(err, tt.want) || err != tt.want {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
			if n := testing.AllocsPerRun(10, func() { _ = f.Parse(tt.frame) }); n != 0 {
				t.Errorf("Parse allocates %v times on error", n)
			}
		})
	}
}

// TestFrameParseTruncatedEverywhere cuts valid frames at every length below
// the end of the IP packet: each must be rejected, never panic, and name a
// truncation or length error.
func TestFrameParseTruncatedEverywhere(t *testing.T) {
	frames := map[string][]byte{
		"tcp4":      l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, []byte("x"), l2test.WithMSS(1460), l2test.WithWS(7)),
		"tcp6":      l2test.TCP6(guest6, host6, l2test.SYN, 1, 0, []byte("x"), l2test.WithMSS(1440)),
		"udp4":      l2test.UDP4(guest4, host4, []byte("payload")),
		"udp6":      l2test.UDP6(guest6, host6, []byte("payload")),
		"echo4":     l2test.Echo4(guest4.Addr(), host4.Addr(), 1, 1, []byte("ping")),
		"echo6":     l2test.Echo6(guest6.Addr(), host6.Addr(), 1, 1, []byte("ping")),
		"ns":        l2test.NeighborSolicit(ll6, guest6.Addr()),
		"arp":       l2test.ARPRequest(l2test.GuestMAC, guest4.Addr(), host4.Addr()),
		"vlan tcp4": l2test.TCP4(guest4, host4, l2test.ACK, 1, 1, nil, l2test.WithVLAN(1), l2test.WithVLAN(2)),
		"ext tcp6":  ipv6Raw(l2.ProtoHopByHop, cat(ext(l2.ProtoFragment), fragHdr(l2.ProtoTCP, 0, false), tcpHdr(nil))),
	}
	ok := map[error]bool{l2.ErrTruncated: true, l2.ErrIPv4Length: true, l2.ErrIPv6Length: true}
	for name, fr := range frames {
		t.Run(name, func(t *testing.T) {
			var f l2.Frame
			if err := f.Parse(fr); err != nil {
				t.Fatalf("full frame: %v", err)
			}
			if f.End != len(fr) {
				t.Fatalf("End = %d, want %d", f.End, len(fr))
			}
			for n := range len(fr) {
				if err := f.Parse(fr[:n]); !ok[err] {
					t.Errorf("cut at %d: err = %v", n, err)
				}
			}
		})
	}
}
