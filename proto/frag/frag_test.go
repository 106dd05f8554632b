// SPDX-License-Identifier: GPL-2.0-or-later

package frag

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"

	"gopasst/proto/l2"
)

// udpFrame builds an Ethernet/IP/UDP frame with n payload bytes.
func udpFrame(t testing.TB, v6 bool, n int, id uint16) []byte {
	t.Helper()
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*31 + n)
	}
	d := &l2.UDPDatagram{
		Link:    l2.Link{SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2}, ID: id},
		Src:     netip.MustParseAddrPort("10.0.0.1:1000"),
		Dst:     netip.MustParseAddrPort("10.0.0.2:2000"),
		Payload: p,
	}
	b := make([]byte, l2.UDP6HeaderSize+n)
	var k int
	if v6 {
		d.Src, d.Dst = netip.MustParseAddrPort("[2001:db8::1]:1000"), netip.MustParseAddrPort("[2001:db8::2]:2000")
		k = l2.BuildUDP6(b, d)
	} else {
		k = l2.BuildUDP4(b, d)
	}
	if k == 0 {
		t.Fatalf("build %d bytes v6=%v", n, v6)
	}
	return b[:k]
}

// cut fragments frame at mtu and returns the fragment frames.
func cut(t testing.TB, frame []byte, mtu int, id uint32) [][]byte {
	t.Helper()
	var fr Fragmenter
	if !fr.Start(frame, mtu, id) {
		t.Fatalf("Start refused a %d-byte frame at MTU %d", len(frame), mtu)
	}
	var out [][]byte
	for {
		buf := make([]byte, fr.Size())
		n, more := fr.Next(buf)
		if n == 0 {
			t.Fatal("Next wrote nothing")
		}
		if n-l2.EthernetSize > mtu {
			t.Fatalf("fragment of %d bytes above MTU %d", n-l2.EthernetSize, mtu)
		}
		out = append(out, buf[:n])
		if !more {
			return out
		}
	}
}

// sameDatagram compares the parts reassembly must restore: addresses,
// protocol and the whole transport header and payload.
func sameDatagram(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w l2.Frame
	g.Flags = l2.CheckIPv4Checksum
	if err := g.Parse(got); err != nil || g.IsFragment {
		t.Fatalf("reassembled frame does not parse whole: %v (fragment %v)", err, g.IsFragment)
	}
	if err := w.Parse(want); err != nil {
		t.Fatal(err)
	}
	if g.Src != w.Src || g.Dst != w.Dst || g.L4Proto != w.L4Proto ||
		!bytes.Equal(got[g.L4:g.End], want[w.L4:w.End]) || !bytes.Equal(got[:12], want[:12]) {
		t.Fatalf("reassembled datagram differs: %d bytes vs %d", g.End-g.L4, w.End-w.L4)
	}
}

func parse(t testing.TB, b []byte) *l2.Frame {
	t.Helper()
	f := &l2.Frame{}
	if err := f.Parse(b); err != nil {
		t.Fatalf("fragment does not parse: %v", err)
	}
	return f
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		v6    bool
		n     int
		mtu   int
		order string
	}{
		{false, 1473, 1500, "in order"}, {false, 65507, 1500, "reversed"}, {false, 65507, 65520, "in order"},
		{false, 9000, 576, "shuffled"}, {true, 1453, 1500, "in order"}, {true, 65487, 1500, "shuffled"},
		{true, 65487, 65520, "reversed"}, {true, 4000, 1280, "reversed"},
	} {
		frame := udpFrame(t, tc.v6, tc.n, 0)
		frags := cut(t, frame, tc.mtu, 77)
		switch tc.order {
		case "reversed":
			for i, j := 0, len(frags)-1; i < j; i, j = i+1, j-1 {
				frags[i], frags[j] = frags[j], frags[i]
			}
		case "shuffled":
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(frags), func(i, j int) { frags[i], frags[j] = frags[j], frags[i] })
		}
		r := New(2, 0)
		var out []byte
		for i, fb := range frags {
			f := parse(t, fb)
			if !f.IsFragment {
				t.Fatalf("%+v: fragment %d not marked a fragment", tc, i)
			}
			got, _ := r.Add(f, 1)
			if got != nil && i != len(frags)-1 {
				t.Fatalf("%+v: complete after %d of %d fragments", tc, i+1, len(frags))
			}
			out = got
		}
		if out == nil {
			t.Fatalf("%+v: not reassembled from %d fragments; stats %+v", tc, len(frags), r.Stats)
		}
		sameDatagram(t, out, frame)
		if r.Pending() != 0 {
			t.Errorf("%+v: %d pending after completion", tc, r.Pending())
		}
	}
}

func TestStartRefuses(t *testing.T) {
	var fr Fragmenter
	small := udpFrame(t, false, 100, 0)
	df := udpFrame(t, false, 3000, 0)
	l2.IPv4(df[l2.EthernetSize:]).SetFlagsFragmentOffset(l2.IPv4FlagDontFragment, 0)
	for _, tc := range []struct {
		name  string
		frame []byte
		mtu   int
	}{
		{"fits", small, 1500}, {"DF", df, 1500}, {"tiny MTU", udpFrame(t, false, 3000, 0), 60},
		{"IPv6 below 1280", udpFrame(t, true, 3000, 0), 1000}, {"not IP", make([]byte, 3000), 1500},
	} {
		if fr.Start(tc.frame, tc.mtu, 1) {
			t.Errorf("%s: Start accepted", tc.name)
		}
	}
}

func TestDropped(t *testing.T) {
	frame := udpFrame(t, false, 4000, 0)
	frags := cut(t, frame, 1500, 9)

	t.Run("overlap", func(t *testing.T) {
		r := New(2, 0)
		r.Add(parse(t, frags[0]), 1)
		ov := bytes.Clone(frags[1])
		ip := l2.IPv4(ov[l2.EthernetSize:])
		ip.SetFlagsFragmentOffset(l2.IPv4FlagMoreFragments, ip.FragmentOffset()-8)
		ip.SetChecksum(0)
		ip.SetChecksum(ip.CalculateChecksum())
		if got, _ := r.Add(parse(t, ov), 1); got != nil || r.Stats.Overlaps != 1 || r.Pending() != 0 {
			t.Errorf("overlap: stats %+v, pending %d", r.Stats, r.Pending())
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := New(2, 5)
		r.Add(parse(t, frags[0]), 1)
		r.Add(parse(t, frags[1]), 1)
		if got, _ := r.Add(parse(t, frags[2]), 100); got != nil || r.Stats.Timeouts != 1 {
			t.Errorf("timeout: stats %+v", r.Stats)
		}
	})
	t.Run("eviction", func(t *testing.T) {
		r := New(1, 0)
		other := cut(t, udpFrame(t, false, 4000, 0), 1500, 10)
		r.Add(parse(t, frags[0]), 1)
		r.Add(parse(t, other[0]), 2)
		if r.Stats.Evicted != 1 || r.Pending() != 1 {
			t.Errorf("eviction: stats %+v", r.Stats)
		}
	})
	t.Run("odd length before the end", func(t *testing.T) {
		r := New(1, 0)
		bad := bytes.Clone(frags[0])
		ip := l2.IPv4(bad[l2.EthernetSize:])
		ip.SetTotalLength(ip.TotalLength() - 3)
		ip.SetChecksum(0)
		ip.SetChecksum(ip.CalculateChecksum())
		if got, ok := r.Add(parse(t, bad[:len(bad)-3]), 1); got != nil || ok || r.Stats.Invalid != 1 {
			t.Errorf("odd length: stats %+v", r.Stats)
		}
	})
}

func TestAllocs(t *testing.T) {
	frame := udpFrame(t, false, 20000, 0)
	frags := cut(t, frame, 1500, 3)
	parsed := make([]*l2.Frame, len(frags))
	for i := range frags {
		parsed[i] = parse(t, frags[i])
	}
	r := New(2, 0)
	var fr Fragmenter
	buf := make([]byte, 2000)
	allocs := testing.AllocsPerRun(50, func() {
		for _, f := range parsed {
			r.Add(f, 1)
		}
		fr.Start(frame, 1500, 4)
		for {
			if _, more := fr.Next(buf); !more {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per datagram", allocs)
	}
}
