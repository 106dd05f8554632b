// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

func segment(src, dst netip.AddrPort, payload []byte) *l2.TCPSegment {
	return &l2.TCPSegment{
		Link: l2.Link{SrcMAC: l2test.OurMAC, DstMAC: l2test.GuestMAC, DontFragment: true},
		Src:  src, Dst: dst, Seq: 1000, Ack: 2000, Flags: l2.TCPFlagAck | l2.TCPFlagPsh, Window: 512,
		Payload: payload,
	}
}

func TestBuildTCP(t *testing.T) {
	payload := []byte("0123456789abcdef0")
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprint("v6=", v6), func(t *testing.T) {
			src, dst := host4, guest4
			build, check := l2.BuildTCP4, l2test.IPv4
			if v6 {
				src, dst = host6, guest6
				build, check = l2.BuildTCP6, l2test.IPv6
			}
			s := segment(src, dst, payload)
			s.Options = []byte{2, 4, 5, 0xb4, 3, 3, 3} // padded with EOL to 8
			buf := make([]byte, 200)
			n := build(buf, s)
			check(t, buf[:n], l2test.SrcMAC(l2test.OurMAC), l2test.DstMAC(l2test.GuestMAC),
				l2test.SrcAddr(src.Addr()), l2test.DstAddr(dst.Addr()), l2test.TTL(l2.DefaultTTL),
				l2test.TCP(l2test.SrcPort(src.Port()), l2test.DstPort(dst.Port()), l2test.SeqNum(1000), l2test.AckNum(2000),
					l2test.TCPFlags(l2test.ACK|l2test.PSH), l2test.Window(512), l2test.MSS(1460), l2test.WindowScale(3),
					l2test.Payload(payload)))
			if m := build(buf[:n-1], s); m != 0 {
				t.Errorf("built %d bytes into a short buffer", m)
			}
			s.Options = make([]byte, 41)
			if m := build(buf, s); m != 0 {
				t.Error("built with 41 bytes of options")
			}
			other := segment(host6, guest4, nil)
			if m := build(buf, other); m != 0 {
				t.Error("built with mixed address families")
			}
		})
	}
}

func TestBuildPayloadInPlace(t *testing.T) {
	buf := make([]byte, 100)
	copy(buf[l2.UDP4HeaderSize:], "in place")
	d := &l2.UDPDatagram{Src: host4, Dst: guest4, Payload: buf[l2.UDP4HeaderSize : l2.UDP4HeaderSize+8]}
	n := l2.BuildUDP4(buf, d)
	l2test.IPv4(t, buf[:n], l2test.UDP(l2test.Payload([]byte("in place"))))
}

func TestBuildOthers(t *testing.T) {
	buf := make([]byte, 200)
	n := l2.BuildUDP6(buf, &l2.UDPDatagram{Src: host6, Dst: guest6, Payload: []byte("x")})
	l2test.IPv6(t, buf[:n], l2test.UDP(l2test.SrcPort(443), l2test.DstPort(40000), l2test.Payload([]byte("x"))))

	n = l2.BuildICMPv4(buf, &l2.ICMPMessage{Src: host4.Addr(), Dst: guest4.Addr(), Type: l2.ICMPv4EchoReply, Ident: 3, Sequence: 4, Payload: []byte("pong")})
	l2test.IPv4(t, buf[:n], l2test.ICMPv4(l2test.ICMPType(l2.ICMPv4EchoReply), l2test.EchoIdent(3), l2test.EchoSeq(4), l2test.Payload([]byte("pong"))))

	n = l2.BuildICMPv6(buf, &l2.ICMPMessage{Src: host6.Addr(), Dst: guest6.Addr(), Type: l2.ICMPv6EchoReply, Ident: 3, Sequence: 4})
	l2test.IPv6(t, buf[:n], l2test.ICMPv6(l2test.ICMPType(l2.ICMPv6EchoReply), l2test.EchoIdent(3), l2test.PayloadLen(0)))

	body := make([]byte, 20+8)
	body[0] = l2.NDPNAFlagSolicited | l2.NDPNAFlagOverride
	tg := guest6.Addr().As16()
	copy(body[4:], tg[:])
	l2.PutNDPOptionLLA(body[20:], l2.NDPOptionTargetLLA, l2test.OurMAC)
	n = l2.BuildICMPv6(buf, &l2.ICMPMessage{Link: l2.Link{TTL: 255}, Src: ll6, Dst: guest6.Addr(), Type: l2.ICMPv6NeighborAdvert, Body: body})
	l2test.IPv6(t, buf[:n], l2test.TTL(255), l2test.ICMPv6(l2test.ICMPType(l2.ICMPv6NeighborAdvert),
		l2test.NDPTarget(guest6.Addr()), l2test.NDPOption(l2.NDPOptionTargetLLA, l2test.OurMAC)))

	n = l2.BuildARP(buf, l2test.GuestMAC, l2.ARPReply, l2test.OurMAC, host4.Addr(), l2test.GuestMAC, guest4.Addr())
	l2test.ARP(t, buf[:n], l2test.ARPOp(l2.ARPReply), l2test.ARPSender(l2test.OurMAC, host4.Addr()),
		l2test.ARPTarget(l2test.GuestMAC, guest4.Addr()), l2test.DstMAC(l2test.GuestMAC))
	if l2.BuildARP(buf[:41], l2test.GuestMAC, l2.ARPReply, l2test.OurMAC, host4.Addr(), l2test.GuestMAC, guest4.Addr()) != 0 {
		t.Error("ARP into 41 bytes")
	}
}

func TestTCPTemplate(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprint("v6=", v6), func(t *testing.T) {
			src, dst, build := host4, guest4, l2.BuildTCP4
			if v6 {
				src, dst, build = host6, guest6, l2.BuildTCP6
			}
			var tpl l2.TCPTemplate
			if !tpl.Init(segment(src, dst, nil)) || tpl.IsIPv6() != v6 {
				t.Fatal("Init")
			}
			want := make([]byte, 2000)
			got := make([]byte, 2000)
			for i, size := range []int{0, 1, 2, 3, 536, 1460} {
				payload := bytes.Repeat([]byte{byte(i + 1)}, size)
				var opts []byte
				if i == 0 {
					opts = []byte{2, 4, 5, 0xb4}
				}
				s := segment(src, dst, payload)
				s.Seq, s.Ack, s.Flags, s.Window, s.Options = uint32(i)*1000, 7, l2.TCPFlagAck, uint16(100+i), opts
				n := build(want, s)
				copy(got[tpl.HeaderLen()+len(opts):], payload)
				m := tpl.Write(got, s.Seq, s.Ack, s.Flags, s.Window, opts, size)
				if !bytes.Equal(got[:m], want[:n]) {
					t.Fatalf("size %d: template\n% x\nbuild\n% x", size, got[:m], want[:n])
				}
			}
			if tpl.Write(got[:tpl.HeaderLen()+9], 0, 0, 0, 0, nil, 10) != 0 {
				t.Error("Write past the buffer")
			}
			// WriteHeaders: the headers WritePartial writes, into a
			// buffer of the headers only.
			hl := tpl.HeaderLen()
			if tpl.WritePartial(got, 5, 6, l2.TCPFlagAck, 7, nil, 1460) != hl+1460 {
				t.Fatal("WritePartial")
			}
			hdrs := make([]byte, hl)
			if tpl.WriteHeaders(hdrs, 5, 6, l2.TCPFlagAck, 7, 1460) != hl || !bytes.Equal(hdrs, got[:hl]) {
				t.Errorf("WriteHeaders\n% x\nWritePartial\n% x", hdrs, got[:hl])
			}
			if tpl.WriteHeaders(hdrs[:hl-1], 5, 6, l2.TCPFlagAck, 7, 1460) != 0 || tpl.WriteHeaders(hdrs, 0, 0, 0, 0, 0x10000) != 0 {
				t.Error("WriteHeaders short, or too long")
			}
			var zero l2.TCPTemplate
			if zero.Write(got, 0, 0, 0, 0, nil, 0) != 0 {
				t.Error("Write with an uninitialised template")
			}
			if zero.Init(segment(host4, guest6, nil)) {
				t.Error("Init with mixed families")
			}
		})
	}
}

func TestBuildAllocs(t *testing.T) {
	buf := make([]byte, 2000)
	payload := make([]byte, 1460)
	s4, s6 := segment(host4, guest4, payload), segment(host6, guest6, payload)
	var tpl l2.TCPTemplate
	tpl.Init(s4)
	d := &l2.UDPDatagram{Src: host6, Dst: guest6, Payload: payload}
	m := &l2.ICMPMessage{Src: host4.Addr(), Dst: guest4.Addr(), Type: l2.ICMPv4EchoReply, Payload: payload[:56]}
	for name, fn := range map[string]func() int{
		"BuildTCP4":     func() int { return l2.BuildTCP4(buf, s4) },
		"BuildTCP6":     func() int { return l2.BuildTCP6(buf, s6) },
		"BuildUDP6":     func() int { return l2.BuildUDP6(buf, d) },
		"BuildICMPv4":   func() int { return l2.BuildICMPv4(buf, m) },
		"TemplateWrite": func() int { return tpl.Write(buf, 1, 2, l2.TCPFlagAck, 3, nil, 1460) },
	} {
		if n := testing.AllocsPerRun(100, func() {
			if fn() == 0 {
				t.Fatal("build failed")
			}
		}); n != 0 {
			t.Errorf("%s: %v allocs", name, n)
		}
	}
}

func BenchmarkFrameParse(b *testing.B) {
	for name, fr := range map[string][]byte{
		"tcp4-1460": l2test.TCP4(guest4, host4, l2test.ACK, 1, 2, make([]byte, 1460)),
		"tcp6-1440": l2test.TCP6(guest6, host6, l2test.ACK, 1, 2, make([]byte, 1440)),
		"udp6-ext":  fixL4Checksum(ipv6Raw(l2.ProtoHopByHop, cat(ext(l2.ProtoDestOpts), ext(l2.ProtoUDP), []byte{0, 53, 0, 53, 0, 8, 0, 0}))),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			f := l2.Frame{Flags: l2.CheckIPv4Checksum | l2.CheckTCPOptions}
			for b.Loop() {
				if err := f.Parse(fr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchBuild(b *testing.B, build func([]byte, *l2.TCPSegment) int, src, dst netip.AddrPort) {
	for _, size := range []int{0, 1460} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 2000)
			s := segment(src, dst, make([]byte, size))
			b.SetBytes(int64(size))
			for b.Loop() {
				s.Seq++
				if build(buf, s) == 0 {
					b.Fatal("build failed")
				}
			}
		})
	}
}

func BenchmarkBuildTCP4(b *testing.B) { benchBuild(b, l2.BuildTCP4, host4, guest4) }

func BenchmarkBuildTCP6(b *testing.B) { benchBuild(b, l2.BuildTCP6, host6, guest6) }

func BenchmarkTCPTemplateWrite(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		src, dst := host4, guest4
		if v6 {
			src, dst = host6, guest6
		}
		b.Run(fmt.Sprint("v6=", v6, "/1460"), func(b *testing.B) {
			b.ReportAllocs()
			var tpl l2.TCPTemplate
			tpl.Init(segment(src, dst, nil))
			buf := make([]byte, 2000)
			b.SetBytes(1460)
			seq := uint32(0)
			for b.Loop() {
				seq += 1460
				if tpl.Write(buf, seq, 1, l2.TCPFlagAck, 512, nil, 1460) == 0 {
					b.Fatal("write failed")
				}
			}
		})
	}
}
