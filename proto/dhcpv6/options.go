// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import "encoding/binary"

// Options is a sequence of DHCPv6 options: 16-bit code, 16-bit length,
// data (RFC 8415 §21.1). It is the tail of a Message, or the encapsulated
// options of IA_NA or IAADDR.
type Options []byte

// Option is one option. Data aliases the message and has no spare
// capacity.
type Option struct {
	Code uint16
	Data []byte
}

// Iter returns an iterator over b.
func (b Options) Iter() OptionIter { return OptionIter{b: b} }

// OptionIter walks Options. Each step consumes at least OptionHeaderSize
// bytes, so a walk over n bytes takes at most n/4 steps, and it never reads
// outside the slice.
type OptionIter struct {
	b   []byte
	off int
	bad bool
}

// Next returns the next option, or false at the end of the data or on a
// malformed option (a header cut short, or a length past the end); Err
// tells the latter apart.
func (it *OptionIter) Next() (Option, bool) {
	if it.bad || it.off >= len(it.b) {
		return Option{}, false
	}
	rest := it.b[it.off:]
	if len(rest) < OptionHeaderSize {
		it.bad = true
		return Option{}, false
	}
	l := int(binary.BigEndian.Uint16(rest[2:]))
	if OptionHeaderSize+l > len(rest) {
		it.bad = true
		return Option{}, false
	}
	end := OptionHeaderSize + l
	it.off += end
	return Option{Code: binary.BigEndian.Uint16(rest), Data: rest[OptionHeaderSize:end:end]}, true
}

// Err reports whether the walk stopped on a malformed option.
func (it *OptionIter) Err() bool { return it.bad }

// Valid reports whether b parses to the end without a malformed option.
func (b Options) Valid() bool {
	it := b.Iter()
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
	return !it.Err()
}

// Find returns the data of the first option with the given code.
func (b Options) Find(code uint16) ([]byte, bool) {
	it := b.Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Code == code {
			return o.Data, true
		}
	}
	return nil, false
}
