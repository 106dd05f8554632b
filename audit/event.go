// SPDX-License-Identifier: GPL-2.0-or-later

package audit

import (
	"net/netip"
	"strconv"
	"time"
)

// Kind is the kind of a flow event.
type Kind uint8

// Kinds, as the "event" field spells them.
const (
	KindOpen  Kind = iota // a flow was opened
	KindClose             // a flow ended; carries bytes and duration
	KindDeny              // a flow was refused by an egress rule
	KindLimit             // a flow was refused by a flow limit
)

var kindNames = [...]string{"open", "close", "deny", "limit"}

// String returns the kind's name in the log.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Dir is who opened a flow.
type Dir uint8

// Directions.
const (
	Outbound Dir = iota // the guest opened it (egress)
	Inbound             // a host client of a port forward (-t, -u) opened it
)

var dirNames = [...]string{"outbound", "inbound"}

// String returns the direction's name in the log.
func (d Dir) String() string {
	if int(d) < len(dirNames) {
		return dirNames[d]
	}
	return "unknown"
}

// Event is one flow event. Strings are not copied beyond Emit: the
// caller's may be constants or long-lived rule texts.
type Event struct {
	Time  time.Time // wall clock; the zero value means "now" in Emit
	Kind  Kind
	Proto string // "tcp", "udp", "icmp"
	Dir   Dir
	Guest netip.AddrPort // the guest's end, as the guest sees it
	Host  netip.AddrPort // the host side's end: the real destination for outbound flows
	Rule  string         // the rule that decided, empty for none
	// Close only.
	BytesFromGuest uint64 // payload bytes the guest sent
	BytesToGuest   uint64 // payload bytes sent to the guest
	Duration       time.Duration
}

// AppendJSON appends ev as one JSON object and a newline to b, by hand:
// no reflection and, when b has room (a 512-byte buffer always does for
// rule texts up to 200 bytes), no allocation. Fields:
//
//	{"time":"2026-12-05T19:24:04.123456789Z","event":"close","proto":"tcp",
//	 "dir":"outbound","guest":"10.0.2.15:41000","host":"10.202.0.1:80",
//	 "rule":"10.202.0.0/24","bytes_from_guest":5,"bytes_to_guest":7,
//	 "duration_ns":1200345}
//
// "rule" is null when no rule decided; bytes and duration only on close.
func AppendJSON(b []byte, ev *Event) []byte {
	b = append(b, `{"time":"`...)
	b = ev.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","event":"`...)
	b = append(b, ev.Kind.String()...)
	b = append(b, `","proto":`...)
	b = appendString(b, ev.Proto)
	b = append(b, `,"dir":"`...)
	b = append(b, ev.Dir.String()...)
	b = append(b, `","guest":`...)
	b = appendAddrPort(b, ev.Guest)
	b = append(b, `,"host":`...)
	b = appendAddrPort(b, ev.Host)
	b = append(b, `,"rule":`...)
	if ev.Rule == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, ev.Rule)
	}
	if ev.Kind == KindClose {
		b = append(b, `,"bytes_from_guest":`...)
		b = strconv.AppendUint(b, ev.BytesFromGuest, 10)
		b = append(b, `,"bytes_to_guest":`...)
		b = strconv.AppendUint(b, ev.BytesToGuest, 10)
		b = append(b, `,"duration_ns":`...)
		b = strconv.AppendInt(b, int64(ev.Duration), 10)
	}
	return append(b, "}\n"...)
}

// appendAddrPort appends ap as a JSON string ("ADDR:PORT", "[ADDR6]:PORT",
// or "ADDR" for port 0, as ICMP has), or null if ap is invalid.
func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	if !ap.Addr().IsValid() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	a := ap.Addr().WithZone("") // a zone is a local interface name: not logged
	if ap.Port() == 0 {
		b = a.AppendTo(b)
	} else {
		b = netip.AddrPortFrom(a, ap.Port()).AppendTo(b)
	}
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping quotes, backslashes,
// control characters and every byte above 0x7f (as \u00XX: the output is
// ASCII, valid UTF-8 whatever s holds; rule texts are ASCII anyway).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
