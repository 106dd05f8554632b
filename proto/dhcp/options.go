// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

// Options is a DHCP options field: code, length, data triples with the
// one-byte pad (0) and end (255) options (RFC 2132 §2).
type Options []byte

// Option is one option as it appears on the wire. Data aliases the message.
type Option struct {
	Code uint8
	Data []byte
}

// Iter returns an iterator over the options in b.
func (b Options) Iter() OptionIter { return OptionIter{b: b} }

// OptionIter walks an Options field. The zero value is an empty iterator.
// It never reads outside the slice: each step advances by at least one byte,
// so a walk over n bytes ends within n steps.
type OptionIter struct {
	b   []byte
	off int
	bad bool
	end bool
}

// Next returns the next option, skipping pads. It returns false at the end
// option, at the end of the data, or on a malformed option (length running
// past the data or a code without its length byte); Err tells the last
// case apart.
func (it *OptionIter) Next() (Option, bool) {
	for !it.end && !it.bad && it.off < len(it.b) {
		code := it.b[it.off]
		switch code {
		case OptPad:
			it.off++
			continue
		case OptEnd:
			it.end = true
			return Option{}, false
		}
		if it.off+2 > len(it.b) {
			it.bad = true
			break
		}
		l := int(it.b[it.off+1])
		start := it.off + 2
		if start+l > len(it.b) {
			it.bad = true
			break
		}
		it.off = start + l
		return Option{Code: code, Data: it.b[start:it.off:it.off]}, true
	}
	return Option{}, false
}

// Err reports whether the walk stopped on a malformed option.
func (it *OptionIter) Err() bool { return it.bad }

// Ended reports whether the walk stopped at an end option.
func (it *OptionIter) Ended() bool { return it.end }

// Find returns the data of the first option with the given code. The walk
// stops at the first malformed option.
func (b Options) Find(code uint8) ([]byte, bool) {
	it := b.Iter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Code == code {
			return o.Data, true
		}
	}
	return nil, false
}
