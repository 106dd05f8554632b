// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

// MaxLineLen bounds a line of a /proc/net table; longer lines are skipped.
// Real lines are 150 (tcp) to 180 (tcp6) bytes.
const MaxLineLen = 512

// Socket states in /proc/net tables (include/net/tcp_states.h).
const (
	StateTCPListen   = 0x0a // TCP_LISTEN
	StateUDPUnconned = 0x07 // TCP_CLOSE: an unconnected UDP socket
)

// portSet is a set of ports, one bit each.
type portSet [65536 / 64]uint64

func (s *portSet) add(p uint16)      { s[p>>6] |= 1 << (p & 63) }
func (s *portSet) del(p uint16)      { s[p>>6] &^= 1 << (p & 63) }
func (s *portSet) has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// tableParser parses a /proc/net table arriving in pieces of any size.
// It keeps the unfinished line in buf; lines longer than MaxLineLen are
// skipped. Allocation-free once buf is allocated.
type tableParser struct {
	buf      []byte // len >= MaxLineLen+1; buf[:carry] is an unfinished line
	carry    int
	skipping bool // inside a line already longer than MaxLineLen
	state    uint8
	set      *portSet
	bad      int // lines skipped as malformed or too long
}

// reset prepares p for a new table.
func (p *tableParser) reset(state uint8, set *portSet) {
	p.carry, p.skipping, p.state, p.set = 0, false, state, set
}

// space returns where the next read should put its bytes.
func (p *tableParser) space() []byte { return p.buf[p.carry:] }

// feed takes n bytes just read into space().
func (p *tableParser) feed(n int) {
	data := p.buf[:p.carry+n]
	for {
		i := indexNL(data)
		if i < 0 {
			break
		}
		if p.skipping {
			p.skipping = false
			p.bad++
		} else {
			p.line(data[:i])
		}
		data = data[i+1:]
	}
	if p.skipping || len(data) > MaxLineLen {
		p.skipping = true
		p.carry = 0
		return
	}
	p.carry = copy(p.buf, data)
}

// end finishes the table: a last line without a newline counts.
func (p *tableParser) end() {
	if !p.skipping && p.carry > 0 {
		p.line(p.buf[:p.carry])
	}
	if p.skipping {
		p.bad++
	}
	p.carry, p.skipping = 0, false
}

// line parses one line and records its port if its state matches.
func (p *tableParser) line(l []byte) {
	port, state, ok := parseLine(l)
	if !ok {
		p.bad++
		return
	}
	if state == p.state && port != 0 {
		p.set.add(port)
	}
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// parseLine parses "SL: LOCAL REMOTE ST ..." and returns LOCAL's port and
// ST. Lines longer than MaxLineLen are refused.
func parseLine(l []byte) (port uint16, state uint8, ok bool) {
	if len(l) > MaxLineLen {
		return 0, 0, false
	}
	var f [4][]byte
	n := 0
	for i := 0; i < len(l) && n < len(f); {
		for i < len(l) && l[i] == ' ' {
			i++
		}
		j := i
		for j < len(l) && l[j] != ' ' {
			j++
		}
		if j > i {
			f[n] = l[i:j]
			n++
		}
		i = j
	}
	if n < 4 {
		return 0, 0, false
	}
	// SL: decimal, then ':'.
	sl := f[0]
	if len(sl) < 2 || len(sl) > 11 || sl[len(sl)-1] != ':' || !allDigits(sl[:len(sl)-1]) {
		return 0, 0, false
	}
	lport, ok := addrPort(f[1])
	if !ok {
		return 0, 0, false
	}
	if _, ok := addrPort(f[2]); !ok {
		return 0, 0, false
	}
	st, ok := hexN(f[3], 2)
	if !ok {
		return 0, 0, false
	}
	return uint16(lport), uint8(st), true
}

// addrPort checks ADDR:PORT, ADDR 8 or 32 hex digits, PORT 1 to 4, and
// returns PORT.
func addrPort(b []byte) (uint32, bool) {
	var c int
	switch {
	case len(b) > 9 && b[8] == ':':
		c = 8
	case len(b) > 33 && b[32] == ':':
		c = 32
	default:
		return 0, false
	}
	if _, ok := hexN(b[:c], c); !ok {
		return 0, false
	}
	return hexN(b[c+1:], 4)
}

// hexN parses 1 to max hex digits (max <= 8; longer input is only
// validated).
func hexN(b []byte, max int) (uint32, bool) {
	if len(b) == 0 || len(b) > max {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
