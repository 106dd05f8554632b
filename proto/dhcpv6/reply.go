// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import (
	"bytes"
	"net/netip"

	"gopasst/guest"
	"gopasst/proto/dnsname"
)

// request is what Reply needs from a client message, gathered in one
// bounded walk. Slices alias the message.
type request struct {
	typ      MessageType
	xid      uint32
	clientID []byte // option 1 data; nil when absent
	serverID []byte // option 2 data; nil when absent
	rapid    bool   // option 14 present
	hasIA    bool   // any IA_NA, IA_TA or IA_PD present
	ia       [maxIA]IANA
	nIA      int
}

// parseRequest validates req: a header, options that parse to the end, a
// client identifier of 2 to 130 bytes when present, a server identifier of
// at most 130 bytes, IA_NA options holding IAID, T1 and T2 and well-formed
// encapsulated options, and IAADDR options of at least 24 bytes in them.
func parseRequest(req []byte) (request, bool) {
	var r request
	msg := Message(req)
	if !msg.Valid() {
		return r, false
	}
	r.typ, r.xid = msg.Type(), msg.TransactionID()
	it := msg.Options().Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		switch o.Code {
		case OptClientID:
			if r.clientID != nil || len(o.Data) < 2 || len(o.Data) > MaxDUIDSize {
				return r, false
			}
			r.clientID = o.Data
		case OptServerID:
			if r.serverID != nil || len(o.Data) < 2 || len(o.Data) > MaxDUIDSize {
				return r, false
			}
			r.serverID = o.Data
		case OptRapidCommit:
			r.rapid = true
		case OptIATA, OptIAPD:
			r.hasIA = true
		case OptIANA:
			ia := IANA(o.Data)
			if !ia.Valid() || !validIA(ia) {
				return r, false
			}
			r.hasIA = true
			if r.nIA < maxIA {
				r.ia[r.nIA] = ia
				r.nIA++
			}
		}
	}
	return r, !it.Err()
}

// validIA checks the options encapsulated in an IA_NA.
func validIA(ia IANA) bool {
	it := ia.Options().Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Code == OptIAAddr && (!IAAddress(o.Data).Valid() || !IAAddress(o.Data).Options().Valid()) {
			return false
		}
	}
	return !it.Err()
}

// reply is the state of one answer being built.
type reply struct {
	n      *guest.Net
	r      *request
	w      optWriter
	prefix netip.Prefix // the guest's on-link prefix
}

// Reply builds the answer to the guest's DHCPv6 message req into out (which
// the caller owns; at least MaxReplySize bytes) and returns its length, or
// ok=false if req is malformed or needs no answer (drop and count).
//
// SOLICIT → ADVERTISE (REPLY with Rapid Commit when the client offers it),
// REQUEST, RENEW, REBIND → REPLY with the address, CONFIRM → REPLY with
// Success or NotOnLink, RELEASE, DECLINE → REPLY with Success,
// INFORMATION-REQUEST → REPLY without IA. See the package documentation for
// what is dropped.
//
// Reply does not allocate and does not retain req, out or n.
func Reply(n *guest.Net, req []byte, out []byte) (m int, ok bool) {
	if n == nil || n.NoDHCPv6 || !n.V6.Addr.Is6() || n.V6.Addr.Is4In6() ||
		n.V6.PrefixLen < 0 || n.V6.PrefixLen > 128 {
		return 0, false
	}
	r, ok := parseRequest(req)
	if !ok {
		return 0, false
	}
	var duid [duidLLSize]byte
	serverDUID(&duid, n.OurMAC)

	// Message validation, RFC 8415 §16.
	ours := r.serverID != nil && bytes.Equal(r.serverID, duid[:])
	switch r.typ {
	case MsgSolicit, MsgConfirm, MsgRebind: // §16.2, §16.5, §16.7
		if r.clientID == nil || r.serverID != nil {
			return 0, false
		}
	case MsgRequest, MsgRenew, MsgRelease, MsgDecline: // §16.4, 16.6, 16.9, 16.10
		if r.clientID == nil || !ours {
			return 0, false
		}
	case MsgInformationRequest: // §16.12
		if (r.serverID != nil && !ours) || r.hasIA {
			return 0, false
		}
	default: // server and relay messages
		return 0, false
	}

	s := reply{n: n, r: &r, prefix: netip.PrefixFrom(n.V6.Addr, n.V6.PrefixLen).Masked()}
	if r.typ == MsgConfirm && !s.confirmHasAddr() {
		return 0, false // §18.3.3: nothing to confirm, no reply
	}
	if len(out) > MaxReplySize {
		out = out[:MaxReplySize]
	}
	if len(out) < HeaderSize {
		return 0, false
	}
	s.w = optWriter{b: out, n: HeaderSize}
	msg := Message(out)
	msg.SetTransactionID(r.xid)
	msg.SetType(MsgReply)
	if r.typ == MsgSolicit && !r.rapid {
		msg.SetType(MsgAdvertise)
	}

	// Essential part: identifiers, commitment, addresses, status.
	w := &s.w
	if r.clientID != nil {
		st := w.begin(OptClientID)
		w.putBytes(r.clientID)
		w.finish(st)
	}
	st := w.begin(OptServerID)
	w.putBytes(duid[:])
	w.finish(st)
	switch r.typ {
	case MsgSolicit:
		if r.rapid {
			w.finish(w.begin(OptRapidCommit)) // §18.3.1, §21.14
		} else {
			st = w.begin(OptPreference) // §18.2.1: take this one at once
			w.put(preferenceMax)
			w.finish(st)
		}
		s.addressIAs()
	case MsgRequest:
		s.addressIAs()
	case MsgRenew, MsgRebind:
		s.addressIAs()
	case MsgConfirm:
		if s.confirmOnLink() {
			s.status(StatusSuccess, "")
		} else {
			s.status(StatusNotOnLink, msgNotOnLink)
		}
	case MsgRelease, MsgDecline:
		s.status(StatusSuccess, "") // §18.3.7, §18.3.8
	}
	if w.over {
		return 0, false
	}

	// Configuration, each option all or nothing (§18.3.1: also in replies
	// carrying no address).
	switch r.typ {
	case MsgSolicit, MsgRequest, MsgRenew, MsgRebind, MsgInformationRequest:
		s.dnsServers()
		s.domainList()
		s.fqdn()
	}
	return w.n, true
}

const (
	msgNotOnLink    = "Prefix not appropriate for link." // as passt
	msgNoAddrsAvail = "One address per client."
)

// serverDUID fills d with our DUID-LL (RFC 8415 §11.4): type 3, hardware
// type 1 (Ethernet), our MAC. Unlike passt's DUID-LLT it needs no clock, so
// it is the same across restarts.
func serverDUID(d *[duidLLSize]byte, mac guest.MAC) {
	d[0], d[1], d[2], d[3] = 0, duidLL, 0, hwEthernet
	copy(d[4:], mac[:])
}

// addressIAs answers each IA_NA of the request, in order. The first gets
// n.V6.Addr with infinite lifetimes and T1 = T2 = infinity, as in passt.
// Later ones get NoAddrsAvail: there is a single address. In a REQUEST, an
// IA naming an address outside the guest's prefix gets NotOnLink instead
// (§18.3.2); in RENEW and REBIND such addresses come back with zero
// lifetimes next to ours (§18.3.4, §18.3.5).
func (s *reply) addressIAs() {
	given := false
	for _, ia := range s.r.ia[:s.r.nIA] {
		w := &s.w
		st := w.begin(OptIANA)
		w.put32(ia.IAID())
		switch {
		case s.r.typ == MsgRequest && !s.onLinkIA(ia):
			w.put32(0)
			w.put32(0)
			s.status(StatusNotOnLink, msgNotOnLink)
		case given:
			w.put32(0)
			w.put32(0)
			s.status(StatusNoAddrsAvail, msgNoAddrsAvail)
		default:
			given = true
			w.put32(Infinity) // T1
			w.put32(Infinity) // T2
			s.iaAddr(s.n.V6.Addr, Infinity)
			if s.r.typ == MsgRenew || s.r.typ == MsgRebind {
				s.staleHints(ia)
			}
		}
		w.finish(st)
	}
}

// iaAddr writes an IA Address option with both lifetimes set to lt.
func (s *reply) iaAddr(a netip.Addr, lt uint32) {
	w := &s.w
	st := w.begin(OptIAAddr)
	b := a.As16()
	w.putBytes(b[:])
	w.put32(lt)
	w.put32(lt)
	w.finish(st)
}

// staleHints echoes, with zero lifetimes, up to maxHints addresses of ia
// that are not the guest's, so that the client drops them.
func (s *reply) staleHints(ia IANA) {
	k := 0
	it := ia.Options().Iter()
	for o, ok := it.Next(); ok && k < maxHints; o, ok = it.Next() {
		if o.Code != OptIAAddr {
			continue
		}
		if a := IAAddress(o.Data).Addr(); a != s.n.V6.Addr {
			s.iaAddr(a, 0)
			k++
		}
	}
}

// onLinkIA reports whether every address in ia is inside the guest's
// prefix.
func (s *reply) onLinkIA(ia IANA) bool {
	it := ia.Options().Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Code == OptIAAddr && !s.prefix.Contains(IAAddress(o.Data).Addr()) {
			return false
		}
	}
	return true
}

// confirmHasAddr reports whether any IA_NA of a CONFIRM holds an address.
func (s *reply) confirmHasAddr() bool {
	for _, ia := range s.r.ia[:s.r.nIA] {
		if _, ok := ia.Options().Find(OptIAAddr); ok {
			return true
		}
	}
	return false
}

// confirmOnLink reports whether all addresses in a CONFIRM are on link.
func (s *reply) confirmOnLink() bool {
	for _, ia := range s.r.ia[:s.r.nIA] {
		if !s.onLinkIA(ia) {
			return false
		}
	}
	return true
}

// status writes a Status Code option (§21.13).
func (s *reply) status(code StatusCode, msg string) {
	w := &s.w
	st := w.begin(OptStatusCode)
	w.put16(uint16(code))
	w.putString(msg)
	w.finish(st)
}

// dnsServers writes option 23 (RFC 3646 §3) with the IPv6 resolvers of
// n.V6.DNS, if any.
func (s *reply) dnsServers() {
	w := &s.w
	mark := w.mark()
	st := w.begin(OptDNSServers)
	k := 0
	for _, a := range s.n.V6.DNS {
		if k < maxDNS && a.Is6() && !a.Is4In6() {
			b := a.As16()
			w.putBytes(b[:])
			k++
		}
	}
	if k == 0 || !w.finish(st) {
		w.rollback(mark)
	}
}

// domainList writes option 24 (RFC 3646 §4) with the valid names of
// n.Search, uncompressed; invalid names are skipped.
func (s *reply) domainList() {
	w := &s.w
	mark := w.mark()
	st := w.begin(OptDomainList)
	k := 0
	for i, name := range s.n.Search {
		if i >= maxSearchNames {
			break
		}
		if s.putName(name) {
			k++
		}
	}
	if k == 0 || !w.finish(st) {
		w.rollback(mark)
	}
}

// putName appends name in wire format and reports whether it did; a valid
// name that does not fit marks the writer as overflowing.
func (s *reply) putName(name string) bool {
	w := &s.w
	l, ok := dnsname.WireLen(name)
	if !ok || !w.room(l) {
		return false
	}
	w.n += dnsname.Put(w.b[w.n:], name)
	return true
}

// fqdn writes option 39 (RFC 4704 §4) with n.FQDN in wire format. Flags
// are all clear: the server performs no DNS updates (S=0) and has not
// overridden the client (O=0).
func (s *reply) fqdn() {
	if s.n.FQDN == "" {
		return
	}
	w := &s.w
	mark := w.mark()
	st := w.begin(OptClientFQDN)
	w.put(0)
	if !s.putName(s.n.FQDN) || !w.finish(st) {
		w.rollback(mark)
	}
}
