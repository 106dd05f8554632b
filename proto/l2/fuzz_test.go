// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// seedFrames are well-formed frames of every kind the builders make.
func seedFrames() [][]byte {
	p := []byte("payload")
	return [][]byte{
		l2test.TCP4(guest4, host4, l2test.SYN, 1, 0, nil, l2test.WithMSS(1460), l2test.WithWS(7),
			l2test.WithSACKPermitted(), l2test.WithTimestamps(1, 2)),
		l2test.TCP4(guest4, host4, l2test.ACK|l2test.PSH, 100, 200, p),
		l2test.TCP6(guest6, host6, l2test.SYN|l2test.ACK, 1, 2, nil, l2test.WithMSS(1440)),
		l2test.TCP6(guest6, host6, l2test.FIN|l2test.ACK, 1, 2, p, l2test.WithVLAN(5)),
		l2test.UDP4(guest4, host4, p),
		l2test.UDP6(guest6, host6, p, l2test.WithVLAN(1), l2test.WithVLAN(2)),
		l2test.Echo4(guest4.Addr(), host4.Addr(), 1, 2, p),
		l2test.Echo6(guest6.Addr(), host6.Addr(), 1, 2, p),
		l2test.ARPRequest(l2test.GuestMAC, guest4.Addr(), host4.Addr()),
		l2test.RouterSolicit(ll6),
		l2test.NeighborSolicit(ll6, guest6.Addr()),
		l2test.NeighborAdvert(ll6, ll6, guest6.Addr(), l2.NDPNAFlagSolicited),
		ipv6Raw(l2.ProtoHopByHop, cat(ext(l2.ProtoDestOpts), ext(l2.ProtoFragment), fragHdr(l2.ProtoTCP, 0, true), tcpHdr(nil))),
		ipv6Raw(l2.ProtoRouting, cat(ext(l2.ProtoAH), []byte{l2.ProtoUDP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 8))),
	}
}

func FuzzFrameParse(f *testing.F) {
	for _, b := range seedFrames() {
		f.Add(b, uint8(0))
		f.Add(b, uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, flags uint8) {
		fr := l2.Frame{Flags: l2.ParseFlags(flags & 3)}
		if err := fr.Parse(b); err != nil {
			known := false
			for _, e := range l2.Errors {
				known = known || e == err
			}
			if !known {
				t.Fatalf("unknown error %v", err)
			}
			return
		}
		if &fr.Raw[0] != &b[0] || len(fr.Raw) != len(b) {
			t.Fatal("Raw is not the input")
		}
		touchAll(&fr)
	})
}

func FuzzIPv6ExtHeaders(f *testing.F) {
	f.Add(uint8(l2.ProtoHopByHop), cat(ext(l2.ProtoDestOpts), ext(l2.ProtoTCP), tcpHdr(nil)))
	f.Add(uint8(l2.ProtoFragment), cat(fragHdr(l2.ProtoUDP, 8, false), []byte{1, 2, 3}))
	f.Add(uint8(l2.ProtoAH), []byte{l2.ProtoNoNext, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(l2.ProtoDestOpts), cat(ext(60), ext(60), ext(60), ext(60), ext(60), ext(60), ext(60), ext(60), ext(59)))
	f.Fuzz(func(t *testing.T, nh uint8, rest []byte) {
		if len(rest) > 0xffff {
			return
		}
		b := ipv6Raw(nh, rest)
		ip := l2.IPv6(b[l2.EthernetSize:])
		proto, off, ok := ip.UpperLayer()
		var fr l2.Frame
		err := fr.Parse(b)
		if ok {
			if off < l2.IPv6MinSize || off > len(ip) {
				t.Fatalf("UpperLayer offset %d out of [40, %d]", off, len(ip))
			}
		}
		if err == nil {
			if !ok {
				t.Fatal("Parse accepted a chain UpperLayer rejects")
			}
			if !fr.IsFragment && (proto != fr.L4Proto || off != fr.L4-fr.L3) {
				t.Fatalf("UpperLayer (%d, %d), Parse (%d, %d)", proto, off, fr.L4Proto, fr.L4-fr.L3)
			}
			touchAll(&fr)
		}
		// Also on a view cut anywhere: no panic.
		for _, n := range []int{0, 39, 40, len(ip) / 2} {
			if n <= len(ip) {
				_, _, _ = ip[:n].UpperLayer()
			}
		}
	})
}

func FuzzTCPOptions(f *testing.F) {
	f.Add([]byte{2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Add([]byte{1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Add([]byte{2, 0})
	f.Add([]byte{8, 1})
	f.Add([]byte{3, 3})
	f.Add([]byte{0, 2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, ok := l2.ParseTCPOptions(b)
		if o.NumSACK < 0 || o.NumSACK > len(o.SACK) || (o.HasWS && o.WindowScale > l2.TCPMaxWindowScale) {
			t.Fatalf("bad result %+v", o)
		}
		// Reference: walk the lengths naively.
		want := true
		for i := 0; i < len(b); {
			if b[i] == 0 {
				break
			}
			if b[i] == 1 {
				i++
				continue
			}
			if i+1 >= len(b) || b[i+1] < 2 || i+int(b[i+1]) > len(b) {
				want = false
				break
			}
			i += int(b[i+1])
		}
		if ok != want {
			t.Fatalf("ParseTCPOptions ok = %v, reference %v", ok, want)
		}
	})
}

func FuzzNDPOptions(f *testing.F) {
	var b [64]byte
	n := l2.PutNDPOptionLLA(b[:], l2.NDPOptionSourceLLA, l2test.GuestMAC)
	n += l2.PutNDPOptionMTU(b[n:], 1500)
	n += l2.PutNDPOptionPrefix(b[n:], netip.MustParsePrefix("2001:db8::/64"), l2.NDPPrefixFlagOnLink, 3600, 1800)
	f.Add(append([]byte(nil), b[:n]...))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := l2.NDPOptions(b)
		it := opts.Iter()
		consumed, steps := 0, 0
		for {
			typ, v, ok := it.Next()
			if !ok {
				break
			}
			steps++
			if steps > len(b)/8 {
				t.Fatalf("%d steps over %d bytes", steps, len(b))
			}
			if typ != b[consumed] || len(v)+2 != int(b[consumed+1])*8 || !bytes.Equal(v, b[consumed+2:consumed+2+len(v)]) {
				t.Fatalf("option at %d: type %d len %d", consumed, typ, len(v))
			}
			consumed += len(v) + 2
		}
		if valid := opts.IsValid(); valid != (consumed == len(b)) || valid == it.Invalid() {
			t.Fatalf("IsValid %v, Invalid %v, consumed %d of %d", valid, it.Invalid(), consumed, len(b))
		}
		_, _ = opts.LinkLayerAddress(l2.NDPOptionSourceLLA)
		// The message views over an arbitrary body never panic either.
		for _, typ := range []uint8{l2.ICMPv6RouterSolicit, l2.ICMPv6RouterAdvert, l2.ICMPv6NeighborSolicit, l2.ICMPv6NeighborAdvert} {
			m := append([]byte{typ, 0, 0, 0}, b...)
			touchNDP(l2.ICMPv6(m))
		}
	})
}

// buildParseFields is what FuzzBuildParse puts in and expects back.
type buildParseFields struct {
	V6               bool
	Kind             uint8 // 0 TCP, 1 UDP, 2 ICMP echo
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            l2.TCPFlags
	Window           uint16
	TTL, TOS         uint8
	MSS              uint16
	Payload          []byte
}

func FuzzBuildParse(f *testing.F) {
	f.Add(false, uint8(0), uint16(1), uint16(80), uint32(1), uint32(2), uint8(2), uint16(65535), uint8(64), uint8(0), uint16(1460), []byte("x"))
	f.Add(true, uint8(0), uint16(40000), uint16(443), uint32(0xffffffff), uint32(0), uint8(0x12), uint16(0), uint8(255), uint8(0xb8), uint16(0), []byte{})
	f.Add(false, uint8(1), uint16(53), uint16(53), uint32(0), uint32(0), uint8(0), uint16(0), uint8(1), uint8(0), uint16(0), []byte("query"))
	f.Add(true, uint8(1), uint16(0), uint16(0), uint32(0), uint32(0), uint8(0), uint16(0), uint8(0), uint8(0), uint16(0), []byte(nil))
	f.Add(true, uint8(2), uint16(7), uint16(9), uint32(0), uint32(0), uint8(0), uint16(0), uint8(3), uint8(0), uint16(0), []byte("ping"))
	f.Fuzz(func(t *testing.T, v6 bool, kind uint8, sp, dp uint16, seq, ack uint32, flags uint8, wnd uint16, ttl, tos uint8, mss uint16, payload []byte) {
		in := buildParseFields{V6: v6, Kind: kind % 3, SrcPort: sp, DstPort: dp, Seq: seq, Ack: ack,
			Flags: l2.TCPFlags(flags), Window: wnd, TTL: max(ttl, 1), TOS: tos, MSS: mss, Payload: payload}
		src, dst := netip.AddrPortFrom(guest4.Addr(), sp), netip.AddrPortFrom(host4.Addr(), dp)
		if v6 {
			src, dst = netip.AddrPortFrom(guest6.Addr(), sp), netip.AddrPortFrom(host6.Addr(), dp)
		}
		link := l2.Link{SrcMAC: l2test.GuestMAC, DstMAC: l2test.OurMAC, TTL: in.TTL, TOS: tos}
		buf := make([]byte, l2.TCP6HeaderSize+8+len(payload))
		var n int
		var opts []byte
		if mss != 0 {
			opts = make([]byte, 4)
			l2.PutTCPOptionMSS(opts, mss)
		}
		switch in.Kind {
		case 0:
			seg := &l2.TCPSegment{Link: link, Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: in.Flags,
				Window: wnd, Options: opts, Payload: payload}
			if v6 {
				n = l2.BuildTCP6(buf, seg)
			} else {
				n = l2.BuildTCP4(buf, seg)
			}
			if n > 0 {
				// The template must produce the same bytes.
				var tpl l2.TCPTemplate
				if !tpl.Init(seg) {
					t.Fatal("template Init failed")
				}
				buf2 := make([]byte, len(buf))
				copy(buf2[tpl.HeaderLen()+len(opts):], payload)
				if n2 := tpl.Write(buf2, seq, ack, in.Flags, wnd, opts, len(payload)); !bytes.Equal(buf2[:n2], buf[:n]) {
					t.Fatalf("template frame differs:\n% x\n% x", buf2[:n2], buf[:n])
				}
			}
		case 1:
			d := &l2.UDPDatagram{Link: link, Src: src, Dst: dst, Payload: payload}
			if v6 {
				n = l2.BuildUDP6(buf, d)
			} else {
				n = l2.BuildUDP4(buf, d)
			}
		case 2:
			m := &l2.ICMPMessage{Link: link, Src: src.Addr(), Dst: dst.Addr(), Ident: sp, Sequence: dp, Payload: payload}
			if v6 {
				m.Type = l2.ICMPv6EchoRequest
				n = l2.BuildICMPv6(buf, m)
			} else {
				m.Type = l2.ICMPv4Echo
				n = l2.BuildICMPv4(buf, m)
			}
		}
		if n == 0 {
			if len(payload) < 0xffff-100 {
				t.Fatalf("build failed for %d-byte payload", len(payload))
			}
			return
		}
		fr := l2.Frame{Flags: l2.CheckIPv4Checksum | l2.CheckTCPOptions}
		if err := fr.Parse(buf[:n]); err != nil {
			t.Fatalf("Parse of built frame: %v", err)
		}
		if !fr.L4ChecksumValid() {
			t.Fatal("built frame has a bad transport checksum")
		}
		touchAll(&fr)
		out := buildParseFields{V6: fr.EtherType == l2.EtherTypeIPv6, Kind: in.Kind, Payload: fr.PayloadBytes()}
		if out.V6 {
			out.TTL, out.TOS = fr.IPv6().HopLimit(), fr.IPv6().TrafficClass()
		} else {
			out.TTL, out.TOS = fr.IPv4().TTL(), fr.IPv4().TOS()
		}
		switch in.Kind {
		case 0:
			tc := fr.TCP()
			out.SrcPort, out.DstPort, out.Seq, out.Ack = tc.SourcePort(), tc.DestinationPort(), tc.SequenceNumber(), tc.AckNumber()
			out.Flags, out.Window = tc.Flags(), tc.WindowSize()
			o, ok := l2.ParseTCPOptions(tc.Options())
			if !ok || o.HasMSS != (mss != 0) {
				t.Fatalf("options % x", tc.Options())
			}
			out.MSS = o.MSS
		case 1:
			out.SrcPort, out.DstPort = fr.UDP().SourcePort(), fr.UDP().DestinationPort()
			in.Seq, in.Ack, in.Flags, in.Window, in.MSS = 0, 0, 0, 0, 0
		case 2:
			out.SrcPort, out.DstPort = fr.ICMPv4().Ident(), fr.ICMPv4().Sequence()
			in.Seq, in.Ack, in.Flags, in.Window, in.MSS = 0, 0, 0, 0, 0
		}
		if len(in.Payload) == 0 {
			in.Payload, out.Payload = nil, nil
		}
		if d := cmp.Diff(in, out); d != "" {
			t.Fatalf("round trip (-built +parsed):\n%s", d)
		}
	})
}
