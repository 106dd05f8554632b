// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

// seqnum is a TCP sequence number. Comparisons are modulo 2^32, valid while
// the two numbers are less than 2^31 apart (RFC 9293 section 3.4), which
// the window sizes used here (at most 2^30) guarantee.
type seqnum uint32

// lt reports whether s comes before t.
func (s seqnum) lt(t seqnum) bool { return int32(s-t) < 0 }

// gt reports whether s comes after t.
func (s seqnum) gt(t seqnum) bool { return int32(s-t) > 0 }

// add returns s advanced by n bytes.
func (s seqnum) add(n uint32) seqnum { return s + seqnum(n) }

// sub returns the distance from t to s, s - t, as a byte count. It is
// meaningful only when t does not come after s.
func (s seqnum) sub(t seqnum) uint32 { return uint32(s - t) }

// inWindow reports whether s is in [lo, lo+size).
func (s seqnum) inWindow(lo seqnum, size uint32) bool { return uint32(s-lo) < size }
