// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import (
	"encoding/binary"

	"gopasst/guest"
	"gopasst/proto/dnsname"
)

// essentials are written whatever else the client asks for: a lower-priority
// option is dropped before one of these loses its room. Their order is the
// order of last resort when space runs out.
var essentials = [...]uint8{
	OptServerID, OptLeaseTime, OptSubnetMask, OptRouter, OptClasslessRoutes,
	OptRapidCommit, OptInterfaceMTU, OptDNS, OptClientID,
}

// offered lists, in ascending order, every option Reply may write after
// option 53: the order for whatever the parameter request list leaves out.
var offered = [...]uint8{
	OptSubnetMask, OptRouter, OptDNS, OptHostname, OptDomainName,
	OptInterfaceMTU, OptLeaseTime, OptServerID, OptClientID, OptRapidCommit,
	OptClientFQDN, OptDomainSearch, OptClasslessRoutes,
}

// reply is the state of one answer being built.
type reply struct {
	n        *guest.Net
	r        *request
	w        optWriter
	typ      uint8   // Offer, Ack or Nak
	lease    bool    // include option 51 (not for INFORM)
	mask     [4]byte // subnet mask from n.V4.PrefixLen
	gw       [4]byte // router and server identifier
	offLink  bool    // gateway outside the guest's subnet: send option 121
	nDNS     int     // IPv4 resolvers to list, at most maxDNS
	written  [4]uint64
	fqdnWire bool // option 81 in wire form (E bit), else ASCII
}

// Reply builds the answer to the guest's DHCP message req into out (which
// the caller owns; at least MaxReplySize bytes) and returns its length, or
// ok=false if req is malformed or needs no answer (drop and count).
// DISCOVER→OFFER, REQUEST→ACK (NAK when the requested address is not the
// guest's), with Rapid Commit (option 80) DISCOVER→ACK directly,
// INFORM→ACK without lease, RELEASE/DECLINE → no reply. A request without
// option 53 is plain BOOTP and gets an ACK, as in passt.
//
// broadcast reports that the reply must go to 255.255.255.255 and the
// broadcast MAC: the client set the broadcast flag, or the reply is a NAK
// (RFC 2131 §4.1). Otherwise it goes to the guest's address and MAC.
//
// Reply does not allocate and does not retain req, out or n.
func Reply(n *guest.Net, req []byte, out []byte) (m int, broadcast bool, ok bool) {
	if n == nil || n.NoDHCP || !n.V4.Addr.Is4() || !n.V4.Gateway.Is4() ||
		n.V4.PrefixLen < 0 || n.V4.PrefixLen > 32 {
		return 0, false, false
	}
	r, ok := parseRequest(req)
	if !ok {
		return 0, false, false
	}
	s := reply{n: n, r: &r, lease: true}
	s.gw = n.V4.Gateway.As4()
	addr := n.V4.Addr.As4()
	yiaddr := addr
	ciaddr := [4]byte{}

	switch r.msgType {
	case Discover:
		s.typ = Offer
		if r.rapid {
			s.typ = Ack // RFC 4039 §4
		}
	case Request, 0:
		// RFC 2131 §4.3.2: a request naming another server is not for us.
		if r.hasServerID && r.serverID != s.gw {
			return 0, false, false
		}
		s.typ = Ack
		ciaddr = r.msg.ClientAddr()
		switch {
		case r.hasReqAddr: // SELECTING or INIT-REBOOT
			if r.reqAddr != addr {
				s.typ = Nak
			}
		case ciaddr != [4]byte{}: // RENEWING or REBINDING
			if ciaddr != addr {
				s.typ = Nak
			}
		}
	case Inform:
		// RFC 2131 §4.3.5: no lease time, no yiaddr.
		s.typ, s.lease = Ack, false
		yiaddr, ciaddr = [4]byte{}, r.msg.ClientAddr()
	default: // RELEASE, DECLINE: nothing to free; server messages: not ours
		return 0, false, false
	}
	if s.typ == Nak {
		yiaddr, ciaddr = [4]byte{}, [4]byte{}
	}

	limit := s.limit(len(out))
	if limit < MinBOOTPSize {
		return 0, false, false
	}
	out = out[:limit]

	// Fixed header, RFC 2131 table 3.
	msg := Message(out)
	clear(out[:MinSize])
	msg.SetOp(BootReply)
	msg.SetHardwareType(r.msg.HardwareType())
	msg.SetHardwareLen(r.msg.HardwareLen())
	msg.SetTransactionID(r.msg.TransactionID())
	msg.SetFlags(r.msg.Flags())
	msg.SetClientAddr(ciaddr)
	msg.SetYourAddr(yiaddr)
	msg.SetGatewayAddr(r.msg.GatewayAddr())
	msg.SetClientHardwareAddr(r.msg.ClientHardwareAddr())
	msg.SetCookie(MagicCookie)

	s.w = optWriter{b: out[:limit-1], n: MinSize} // room for the end option
	s.prepare()
	s.options()

	m = s.w.n
	out[m] = OptEnd
	m++
	if m < MinBOOTPSize {
		clear(out[m:MinBOOTPSize])
		m = MinBOOTPSize
	}
	broadcast = r.msg.Flags()&FlagBroadcast != 0 || s.typ == Nak
	return m, broadcast, true
}

// limit returns the largest reply the client accepts: DefaultMessageSize,
// or what option 57 announces less IP and UDP headers, bounded by
// MaxReplySize, the guest's MTU, and the caller's buffer.
func (s *reply) limit(outLen int) int {
	l := DefaultMessageSize
	if v := s.r.maxSize - 20 - 8; v > l {
		l = min(v, MaxReplySize)
		if mtu := s.n.MTU - 20 - 8; s.n.MTU > 0 && mtu < l {
			l = max(mtu, DefaultMessageSize)
		}
	}
	return min(l, outLen)
}

// prepare computes what the options derive from n.
func (s *reply) prepare() {
	n := s.n
	if n.V4.PrefixLen > 0 {
		binary.BigEndian.PutUint32(s.mask[:], ^uint32(0)<<(32-n.V4.PrefixLen))
	}
	addr := n.V4.Addr.As4()
	for i := range addr {
		if addr[i]&s.mask[i] != s.gw[i]&s.mask[i] {
			s.offLink = true
		}
	}
	if n.V4.PrefixLen == 32 {
		s.offLink = true
	}
	for _, a := range n.V4.DNS {
		if s.nDNS < maxDNS && a.Unmap().Is4() {
			s.nDNS++
		}
	}
	s.fqdnWire = !s.r.hasFQDN || s.r.fqdn[0]&fqdnE != 0
}

// options writes option 53 first (some clients, such as wattcp32 and mTCP,
// expect it there, as passt notes), then the parameter request list in the
// client's order, then everything else in ascending order.
func (s *reply) options() {
	st := s.w.begin(OptMessageType)
	s.w.put(s.typ)
	s.w.finish(st)
	if s.typ == Nak {
		s.one(OptServerID)
		s.one(OptClientID)
		return
	}
	for _, c := range s.r.prl {
		s.one(c)
	}
	for _, c := range offered {
		s.one(c)
	}
}

// one writes option c unless it was written already or does not apply. A
// non-essential option is undone if it would take the room still needed by
// essential ones not yet written.
func (s *reply) one(c uint8) {
	bit := uint64(1) << (c & 63)
	if s.written[c>>6]&bit != 0 {
		return
	}
	s.written[c>>6] |= bit
	start := s.w.n
	if !s.write(c) || isEssential(c) {
		return
	}
	if s.w.n+s.pending() > len(s.w.b) {
		s.w.rollback(start)
	}
}

func isEssential(c uint8) bool {
	for _, e := range essentials {
		if e == c {
			return true
		}
	}
	return false
}

// pending returns the bytes the essential options not yet written need.
func (s *reply) pending() int {
	t := 0
	for _, c := range essentials {
		if s.written[c>>6]&(uint64(1)<<(c&63)) == 0 {
			t += s.essentialSize(c)
		}
	}
	return t
}

// essentialSize returns the wire size of essential option c, 0 if it does
// not apply; it must agree with write.
func (s *reply) essentialSize(c uint8) int {
	switch c {
	case OptServerID, OptSubnetMask, OptRouter:
		return 6
	case OptLeaseTime:
		if s.lease {
			return 6
		}
	case OptClasslessRoutes:
		if s.offLink {
			return 2 + 14
		}
	case OptRapidCommit:
		if s.rapidAck() {
			return 2
		}
	case OptInterfaceMTU:
		if s.mtuOK() {
			return 4
		}
	case OptDNS:
		if s.nDNS > 0 {
			return 2 + 4*s.nDNS
		}
	case OptClientID:
		if s.r.hasClientID {
			return 2 + len(s.r.clientID)
		}
	}
	return 0
}

func (s *reply) rapidAck() bool { return s.r.msgType == Discover && s.r.rapid }

// mtuOK: option 26 holds 68 (RFC 2132 §5.1) to 65535.
func (s *reply) mtuOK() bool { return s.n.MTU >= 68 && s.n.MTU <= 0xffff }

// fqdnE is the E flag of option 81 (RFC 4702 §2.1): the name is in
// canonical wire format. S (server updates A records), O and N stay clear.
const fqdnE = 0x04

// write appends option c if it applies and fits, and reports whether it did.
func (s *reply) write(c uint8) bool {
	n, w := s.n, &s.w
	var st int
	switch c {
	case OptSubnetMask:
		st = w.begin(c)
		w.put(s.mask[:]...)
	case OptRouter, OptServerID:
		// passt uses the gateway as server identifier too.
		st = w.begin(c)
		w.put(s.gw[:]...)
	case OptDNS:
		if s.nDNS == 0 {
			return false
		}
		st = w.begin(c)
		k := 0
		for _, a := range n.V4.DNS {
			if a = a.Unmap(); k < s.nDNS && a.Is4() {
				b := a.As4()
				w.put(b[:]...)
				k++
			}
		}
	case OptHostname:
		if n.Hostname == "" {
			return false
		}
		st = w.begin(c)
		w.putString(n.Hostname)
	case OptDomainName:
		d := firstDomain(n.Search)
		if d == "" {
			return false
		}
		st = w.begin(c)
		w.putString(d)
	case OptInterfaceMTU:
		if !s.mtuOK() {
			return false
		}
		st = w.begin(c)
		w.put(byte(n.MTU>>8), byte(n.MTU))
	case OptLeaseTime:
		if !s.lease {
			return false
		}
		st = w.begin(c)
		w.put(0xff, 0xff, 0xff, 0xff) // infinite, as passt
	case OptClientID:
		if !s.r.hasClientID {
			return false
		}
		st = w.begin(c)
		w.putBytes(s.r.clientID)
	case OptRapidCommit:
		if !s.rapidAck() {
			return false
		}
		st = w.begin(c)
	case OptClientFQDN:
		return s.writeFQDN()
	case OptDomainSearch:
		return s.writeSearch()
	case OptClasslessRoutes:
		if !s.offLink {
			return false
		}
		// RFC 3442: gw/32 on-link (router 0.0.0.0), then 0/0 via gw.
		st = w.begin(c)
		w.put(32)
		w.put(s.gw[:]...)
		w.put(0, 0, 0, 0)
		w.put(0)
		w.put(s.gw[:]...)
	default:
		return false
	}
	return w.finish(st)
}

// writeFQDN writes option 81 (RFC 4702 §2): flags, RCODE1 and RCODE2 at 255
// (§2.2), then n.FQDN, in wire form unless the client asked for ASCII by
// clearing E. The server does no DNS updates: S is clear.
func (s *reply) writeFQDN() bool {
	fqdn := s.n.FQDN
	if dnsname.Trim(fqdn) == "" {
		return false
	}
	w := &s.w
	st := w.begin(OptClientFQDN)
	if !s.fqdnWire {
		w.put(0, 255, 255)
		w.putString(dnsname.Trim(fqdn))
		return w.finish(st)
	}
	w.put(fqdnE, 255, 255)
	if w.over {
		return w.finish(st)
	}
	k := dnsname.Put(w.b[w.n:], fqdn)
	if k == 0 {
		w.rollback(st)
		return false
	}
	w.n += k
	return w.finish(st)
}

// writeSearch writes option 119 (RFC 3397), compressed, split over several
// options of at most 255 bytes each when longer (RFC 3396 §6). It is all or
// nothing.
func (s *reply) writeSearch() bool {
	var buf [maxSearchWire]byte
	l := dnsname.PutList(buf[:], s.n.Search)
	if l == 0 {
		return false
	}
	w := &s.w
	first := w.n
	for off := 0; off < l; {
		chunk := min(l-off, 255)
		st := w.begin(OptDomainSearch)
		w.putBytes(buf[off : off+chunk])
		if !w.finish(st) {
			w.rollback(first)
			return false
		}
		off += chunk
	}
	return true
}

// firstDomain returns the first search domain that is a valid name, without
// its trailing dot, for option 15.
func firstDomain(search []string) string {
	for _, d := range search {
		if _, ok := dnsname.WireLen(d); ok {
			return dnsname.Trim(d)
		}
	}
	return ""
}
