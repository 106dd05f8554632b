// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

// optWriter appends options to a reply without allocating. An option that
// does not fit is rolled back whole, never truncated: begin remembers where
// it started, and finish either fixes its length or undoes it.
type optWriter struct {
	b    []byte // the reply, limited to what the client accepts, less the end option
	n    int    // bytes used
	over bool   // a put did not fit since the last begin
}

// begin starts an option with the given code and returns its start.
func (w *optWriter) begin(code uint8) int {
	start := w.n
	w.over = false
	w.put(code, 0)
	return start
}

// put appends bytes to the current option.
func (w *optWriter) put(b ...byte) {
	if w.n+len(b) > len(w.b) {
		w.over = true
		return
	}
	w.n += copy(w.b[w.n:], b)
}

// putString appends the bytes of s.
func (w *optWriter) putString(s string) {
	if w.n+len(s) > len(w.b) {
		w.over = true
		return
	}
	w.n += copy(w.b[w.n:], s)
}

// putBytes appends p.
func (w *optWriter) putBytes(p []byte) {
	if w.n+len(p) > len(w.b) {
		w.over = true
		return
	}
	w.n += copy(w.b[w.n:], p)
}

// finish sets the length of the option begun at start and reports whether
// it was kept. Options that overflowed the reply or 255 data bytes are
// undone.
func (w *optWriter) finish(start int) bool {
	l := w.n - start - 2
	if w.over || l > 255 {
		w.rollback(start)
		return false
	}
	w.b[start+1] = byte(l)
	return true
}

// rollback discards everything written from start on.
func (w *optWriter) rollback(start int) {
	w.n = start
	w.over = false
}
