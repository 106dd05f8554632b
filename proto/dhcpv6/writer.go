// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import "encoding/binary"

// optWriter appends options to a reply without allocating. Options nest:
// begin an IA_NA, write its IAADDR inside, finish both. An option that does
// not fit is undone whole by finish, never truncated.
type optWriter struct {
	b    []byte // the reply buffer, limited to MaxReplySize
	n    int    // bytes used
	over bool   // a put did not fit since the outermost begin
}

// begin starts an option and returns its start offset.
func (w *optWriter) begin(code uint16) int {
	start := w.n
	w.put16(code)
	w.put16(0)
	return start
}

func (w *optWriter) room(k int) bool {
	if w.n+k > len(w.b) {
		w.over = true
		return false
	}
	return true
}

func (w *optWriter) put(b ...byte) {
	if w.room(len(b)) {
		w.n += copy(w.b[w.n:], b)
	}
}

func (w *optWriter) putBytes(p []byte) {
	if w.room(len(p)) {
		w.n += copy(w.b[w.n:], p)
	}
}

func (w *optWriter) putString(s string) {
	if w.room(len(s)) {
		w.n += copy(w.b[w.n:], s)
	}
}

func (w *optWriter) put16(v uint16) {
	if w.room(2) {
		binary.BigEndian.PutUint16(w.b[w.n:], v)
		w.n += 2
	}
}

func (w *optWriter) put32(v uint32) {
	if w.room(4) {
		binary.BigEndian.PutUint32(w.b[w.n:], v)
		w.n += 4
	}
}

// finish sets the length of the option begun at start. If anything since
// did not fit, the option is undone and finish reports false; an enclosing
// option then fails too, as over stays set until rollback.
func (w *optWriter) finish(start int) bool {
	if w.over {
		w.n = start
		return false
	}
	binary.BigEndian.PutUint16(w.b[start+2:], uint16(w.n-start-OptionHeaderSize))
	return true
}

// mark and rollback bracket an outermost group of options to be written
// all or nothing.
func (w *optWriter) mark() int { return w.n }

func (w *optWriter) rollback(to int) {
	w.n = to
	w.over = false
}
