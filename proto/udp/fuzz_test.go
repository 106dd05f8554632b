// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"gopasst/flow/flowtest"
	"gopasst/proto/l2"
	"gopasst/proto/l2/l2test"
)

// sinkMapper sends every destination to a socket the test owns on the
// loopback, so that a fuzzer never reaches the network or a local
// service.
type sinkMapper struct{ v4, v6 netip.AddrPort }

func (m sinkMapper) HostDestination(dst netip.Addr, port uint16, udp bool) (netip.Addr, uint16) {
	if dst.Is4() {
		return m.v4.Addr(), m.v4.Port()
	}
	return m.v6.Addr(), m.v6.Port()
}

// FuzzHandleTap feeds arbitrary frames to HandleTap. Properties: no
// panic; a flow exists only for a UDP datagram with both ports set; every
// flow expires and its socket is unregistered.
func FuzzHandleTap(f *testing.F) {
	f.Add(l2test.UDP4(ap(guestV4, 1000), ap(hostLoV4, 53), []byte("x")))
	f.Add(l2test.UDP6(ap(guestV6, 1000), ap(hostLoV6, 53), []byte("x")))
	f.Add(l2test.UDP4(ap(guestV4, 0), ap(hostLoV4, 53), nil))
	f.Add(l2test.UDP6(ap(guestV6, 1000), ap(netip.MustParseAddr("ff02::fb"), 5353), []byte("mdns")))
	f.Add(l2test.UDP4(ap(guestV4, 1000), ap(netip.MustParseAddr("255.255.255.255"), 9), nil))
	f.Add(l2test.Echo4(guestV4, hostLoV4, 1, 1, nil))
	s4, s6 := newServer(f, lo4, false), newServer(f, lo6, false)
	p := &fakePoller{}
	h, err := New(Config{Net: testNet(), Poller: p, Tap: &flowtest.Tap{}, Capacity: 4, Batch: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(h.Close)
	h.mapper = sinkMapper{s4.addr, s6.addr}
	now := int64(0)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var fr l2.Frame
		if fr.Parse(frame) != nil {
			return
		}
		h.HandleTap(&fr, now)
		h.End(now)
		if h.Len() > 0 {
			if fr.L4Proto != l2.ProtoUDP || fr.IsFragment {
				t.Fatalf("flow opened for % x", frame)
			}
			if u := fr.UDP(); u.SourcePort() == 0 || u.DestinationPort() == 0 {
				t.Fatalf("flow opened for port 0: % x", frame)
			}
		}
		now += DefaultStreamTimeout + 2*scanInterval
		h.Tick(now)
		if h.Len() != 0 || p.adds != p.dels {
			t.Fatalf("Len %d after expiry; %d sockets registered, %d unregistered", h.Len(), p.adds, p.dels)
		}
	})
}

// cmsgRecvErr builds an IP_RECVERR control message.
func cmsgRecvErr(level, typ int32, origin, icmpType, code uint8, info uint32, off []byte) []byte {
	l := unix.SizeofCmsghdr + extErrLen + len(off)
	b := make([]byte, (l+7)&^7)
	binary.NativeEndian.PutUint64(b, uint64(l))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	d := b[unix.SizeofCmsghdr:]
	binary.NativeEndian.PutUint32(d, uint32(unix.ECONNREFUSED))
	d[4], d[5], d[6] = origin, icmpType, code
	binary.NativeEndian.PutUint32(d[8:], info)
	copy(d[extErrLen:], off)
	return b
}

func sockaddr4Bytes(a [4]byte) []byte {
	b := make([]byte, unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint16(b, unix.AF_INET)
	copy(b[4:], a[:])
	return b
}

func TestParseRecvErr(t *testing.T) {
	tests := []struct {
		name string
		c    []byte
		ok   bool
		want extErr
	}{
		{"ipv4 port unreachable", cmsgRecvErr(unix.IPPROTO_IP, unix.IP_RECVERR, unix.SO_EE_ORIGIN_ICMP, 3, 3, 0, sockaddr4Bytes([4]byte{127, 0, 0, 1})),
			true, extErr{origin: unix.SO_EE_ORIGIN_ICMP, typ: 3, code: 3, offender: lo4}},
		{"ipv6 packet too big, no offender", cmsgRecvErr(unix.IPPROTO_IPV6, unix.IPV6_RECVERR, unix.SO_EE_ORIGIN_ICMP6, 2, 0, 1280, nil),
			true, extErr{origin: unix.SO_EE_ORIGIN_ICMP6, typ: 2, info: 1280}},
		{"other control message", cmsgRecvErr(unix.SOL_SOCKET, unix.SCM_RIGHTS, 0, 0, 0, 0, nil), false, extErr{}},
		{"truncated", cmsgRecvErr(unix.IPPROTO_IP, unix.IP_RECVERR, 2, 3, 3, 0, nil)[:20], false, extErr{}},
		{"empty", nil, false, extErr{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRecvErr(tc.c)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("parseRecvErr = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzParseRecvErr: no panic on any control buffer.
func FuzzParseRecvErr(f *testing.F) {
	f.Add(cmsgRecvErr(unix.IPPROTO_IP, unix.IP_RECVERR, unix.SO_EE_ORIGIN_ICMP, 3, 3, 0, sockaddr4Bytes([4]byte{127, 0, 0, 1})))
	f.Add(cmsgRecvErr(unix.IPPROTO_IPV6, unix.IPV6_RECVERR, unix.SO_EE_ORIGIN_ICMP6, 1, 4, 0, nil))
	f.Add(append(cmsgRecvErr(unix.SOL_SOCKET, 1, 0, 0, 0, 0, nil), cmsgRecvErr(unix.IPPROTO_IP, unix.IP_RECVERR, 2, 3, 3, 0, nil)...))
	f.Fuzz(func(t *testing.T, c []byte) { parseRecvErr(c) })
}
