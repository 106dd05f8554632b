// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import "encoding/binary"

// request is what Reply needs from a client message, gathered in one bounded
// walk over its options. Slices alias the message.
type request struct {
	msg         Message
	msgType     uint8   // option 53; 0 when absent (plain BOOTP)
	reqAddr     [4]byte // option 50
	hasReqAddr  bool
	serverID    [4]byte // option 54
	hasServerID bool
	prl         []byte // option 55, codes in the client's order
	clientID    []byte // option 61, echoed per RFC 6842
	hasClientID bool
	maxSize     int    // option 57; 0 when absent
	rapid       bool   // option 80 present
	fqdn        []byte // option 81 as sent, flags first
	hasFQDN     bool
}

// Overload values of option 52 (RFC 2132 §9.3).
const (
	overloadFile  = 1
	overloadSname = 2
)

// parseRequest checks req and collects its options. It fails on anything
// that is not a well-formed BOOTREQUEST: short message, bad cookie, hlen
// over 16, an option running past its field, or one of the options Reply
// relies on with a wrong length. The first instance of a repeated option
// wins (RFC 3396 concatenation is not done).
func parseRequest(req []byte) (request, bool) {
	r := request{msg: Message(req)}
	if !r.msg.Valid() || r.msg.Op() != BootRequest {
		return r, false
	}
	var seen [4]uint64
	overload := uint8(0)
	if !r.walk(r.msg.Options(), &seen, &overload) {
		return r, false
	}
	// RFC 2131 §4.1: with option 52, the file field is read next, then sname.
	if overload&overloadFile != 0 && !r.walk(Options(r.msg.File()), &seen, nil) {
		return r, false
	}
	if overload&overloadSname != 0 && !r.walk(Options(r.msg.ServerName()), &seen, nil) {
		return r, false
	}
	return r, true
}

// walk gathers the options in o; overload is nil outside the main field, so
// that option 52 is honoured only there.
func (r *request) walk(o Options, seen *[4]uint64, overload *uint8) bool {
	it := o.Iter()
	for opt, ok := it.Next(); ok; opt, ok = it.Next() {
		bit := uint64(1) << (opt.Code & 63)
		if seen[opt.Code>>6]&bit != 0 {
			continue
		}
		seen[opt.Code>>6] |= bit
		d := opt.Data
		switch opt.Code {
		case OptMessageType:
			if len(d) != 1 || d[0] == 0 {
				return false
			}
			r.msgType = d[0]
		case OptRequestedAddr:
			if len(d) != 4 {
				return false
			}
			r.reqAddr, r.hasReqAddr = [4]byte(d), true
		case OptServerID:
			if len(d) != 4 {
				return false
			}
			r.serverID, r.hasServerID = [4]byte(d), true
		case OptParamRequestList:
			r.prl = d
		case OptClientID:
			r.clientID, r.hasClientID = d, true
		case OptMaxMessageSize:
			if len(d) != 2 {
				return false
			}
			r.maxSize = int(binary.BigEndian.Uint16(d))
		case OptRapidCommit:
			r.rapid = true
		case OptClientFQDN:
			if len(d) < 3 {
				return false
			}
			r.fqdn, r.hasFQDN = d, true
		case OptOverload:
			if len(d) != 1 || d[0] == 0 || d[0] > 3 {
				return false
			}
			if overload != nil {
				*overload = d[0]
			}
		}
	}
	return !it.Err()
}
