// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/fwd"
	"gopasst/proto/l2"
)

// extErr is what readErrQueue needs of a struct sock_extended_err and the
// offender address that follows it (linux/errqueue.h).
type extErr struct {
	origin, typ, code uint8
	info              uint32 // MTU for "fragmentation needed" and "packet too big"
	offender          netip.Addr
}

const (
	cmsgHdrLen = unix.SizeofCmsghdr
	extErrLen  = 16 // sizeof(struct sock_extended_err)
)

// parseRecvErr finds the IP_RECVERR or IPV6_RECVERR control message in c.
// It never panics on a malformed buffer.
func parseRecvErr(c []byte) (ee extErr, ok bool) {
	for len(c) >= cmsgHdrLen {
		l := int(binary.NativeEndian.Uint64(c[0:]))
		level := int32(binary.NativeEndian.Uint32(c[8:]))
		typ := int32(binary.NativeEndian.Uint32(c[12:]))
		if l < cmsgHdrLen || l > len(c) {
			return ee, false
		}
		if (level == unix.IPPROTO_IP && typ == unix.IP_RECVERR) || (level == unix.IPPROTO_IPV6 && typ == unix.IPV6_RECVERR) {
			d := c[cmsgHdrLen:l]
			if len(d) < extErrLen {
				return ee, false
			}
			ee.origin, ee.typ, ee.code = d[4], d[5], d[6]
			ee.info = binary.NativeEndian.Uint32(d[8:])
			ee.offender = offender(d[extErrLen:])
			return ee, true
		}
		next := (l + 7) &^ 7
		if next >= len(c) {
			break
		}
		c = c[next:]
	}
	return ee, false
}

// offender reads the sockaddr after a sock_extended_err (SO_EE_OFFENDER);
// AF_UNSPEC or a short buffer give the zero Addr.
func offender(b []byte) netip.Addr {
	if len(b) < 2 {
		return netip.Addr{}
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= 8 {
			return netip.AddrFrom4([4]byte(b[4:8]))
		}
	case unix.AF_INET6:
		if len(b) >= 24 {
			return netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		}
	}
	return netip.Addr{}
}

// readErrQueue reads ICMP errors queued on a flow socket (IP_RECVERR)
// and sends each to the guest as the matching ICMP or ICMPv6 error.
// Reading the queue also clears the socket's pending error. Mirrors
// udp_sock_recverr() in passt udp.c.
func (h *Handler) readErrQueue(idx int) {
	fl := h.tbl.At(idx)
	for range maxErrPerEvent {
		if h.used == len(h.bufs) {
			h.st.BufferFull++
			return // the errors stay queued until the next wake-up
		}
		h.eiov.SetLen(len(h.edata))
		h.emsg.Namelen = unix.SizeofSockaddrInet6
		h.emsg.SetControllen(len(h.ectl))
		h.emsg.Flags = 0
		n, e := recvmsg(int(fl.fd), &h.emsg, unix.MSG_ERRQUEUE)
		if e != 0 {
			return
		}
		h.st.ErrQueue++
		cl := min(int(h.emsg.Controllen), len(h.ectl))
		ee, ok := parseRecvErr(h.ectl[:cl])
		if !ok || fl.typ != flowOut {
			continue
		}
		h.icmpError(fl, &ee, h.edata[:min(n, len(h.edata))])
	}
}

// icmpError sends the guest an ICMP (or ICMPv6) error for flow fl quoting
// what the guest sent: an IP header from the guest's address to the
// remote address it used, the UDP header with its ports, and as much of
// the payload as the host's error quoted (data), within RFC 1812's 576
// (IPv4) or RFC 4443's 1280 (IPv6) bytes. The source is the offender
// mapped back to what the guest sees: the remote address itself when it
// is the host side's peer.
func (h *Handler) icmpError(fl *udpFlow, ee *extErr, data []byte) {
	v6 := fl.key.v6
	var rest uint32 // the 4 bytes after the checksum
	switch {
	case !v6 && ee.origin == unix.SO_EE_ORIGIN_ICMP && ee.typ == l2.ICMPv4DstUnreachable:
		if ee.code == 4 { // fragmentation needed: next-hop MTU (RFC 1191)
			rest = ee.info & 0xffff
		}
	case !v6 && ee.origin == unix.SO_EE_ORIGIN_ICMP && ee.typ == l2.ICMPv4TimeExceeded:
	case v6 && ee.origin == unix.SO_EE_ORIGIN_ICMP6 && ee.typ == l2.ICMPv6DstUnreachable:
	case v6 && ee.origin == unix.SO_EE_ORIGIN_ICMP6 && ee.typ == l2.ICMPv6PacketTooBig:
		rest = ee.info
	case v6 && ee.origin == unix.SO_EE_ORIGIN_ICMP6 && ee.typ == l2.ICMPv6TimeExceeded:
	default:
		return
	}
	guestA := flow.BytesAddr(&fl.key.a, v6)
	remote := flow.BytesAddr(&fl.key.b, v6)
	src := remote
	if off := ee.offender; off.IsValid() && off != flow.BytesAddr(&fl.peer, v6) {
		if m := fwd.GuestSource(h.n, off); m.IsValid() && m.Is6() == v6 && !m.IsLoopback() && !m.IsUnspecified() {
			src = m
		}
	}

	body := h.ebody[:]
	binary.BigEndian.PutUint32(body, rest)
	q := body[4:]
	iph := l2.IPv4MinSize
	quoteMax := quoteMax4
	if v6 {
		iph, quoteMax = l2.IPv6MinSize, quoteMax6
	}
	plen := min(len(data), quoteMax-iph-l2.UDPSize)
	ul := l2.UDPSize + plen // what the quote holds
	origLen := ul           // what the guest sent
	if int(fl.lastLen) > ul {
		origLen = int(fl.lastLen)
	}
	if v6 {
		l2.IPv6(q).Encode(&l2.IPv6Fields{
			PayloadLength: uint16(origLen), NextHeader: l2.ProtoUDP, HopLimit: l2.DefaultTTL,
			SrcAddr: guestA, DstAddr: remote,
		})
	} else {
		ip := l2.IPv4(q)
		ip.Encode(&l2.IPv4Fields{
			TotalLength: uint16(l2.IPv4MinSize + origLen), Flags: l2.IPv4FlagDontFragment,
			TTL: l2.DefaultTTL, Protocol: l2.ProtoUDP, SrcAddr: guestA, DstAddr: remote,
		})
		ip.SetChecksum(ip.CalculateChecksum())
	}
	u := l2.UDP(q[iph : iph+ul])
	copy(u[l2.UDPSize:], data[:plen])
	u.Encode(&l2.UDPFields{SrcPort: fl.key.aPort, DstPort: fl.key.bPort, Length: uint16(ul)})
	if origLen == ul {
		// The whole datagram is quoted: its checksum is the guest's.
		u.SetChecksum(u.CalculateChecksum(l2.PseudoHeaderSum(guestA, remote, l2.ProtoUDP, ul)))
	}
	u.SetLength(uint16(origLen))

	m := &h.imsg
	*m = l2.ICMPMessage{
		Link: l2.Link{SrcMAC: [6]byte(h.n.OurMAC), DstMAC: [6]byte(h.n.GuestMAC)},
		Src:  src, Dst: guestA, Type: ee.typ, Code: ee.code,
		Body: body[:4+iph+ul],
	}
	buf := h.bufs[h.used]
	var size int
	if v6 {
		size = l2.BuildICMPv6(buf, m)
	} else {
		size = l2.BuildICMPv4(buf, m)
	}
	m.Body = nil
	if size == 0 {
		return
	}
	h.used++
	h.out[0] = buf[:size]
	h.send(1)
	h.st.ICMPErrors++
}
