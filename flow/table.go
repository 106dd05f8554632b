// SPDX-License-Identifier: GPL-2.0-or-later

package flow

// Table is a handler's flow table: a dense array of fixed capacity of
// flows of type F, indexed by an Index (open addressing, seeded hash,
// compaction by moving the last flow into the hole, as passt compacts its
// flow table), each flow also holding a unit of the shared Budget.
//
// The Table owns the array, the index and the accounting; the handler owns
// the key: it hashes the key's bytes with Hash, and looks a flow up by
// walking Probe and comparing the candidates' keys, as Index describes.
// Positions [0, Len) are live; they change when Remove moves the last flow
// into a hole, which Remove reports so that the handler can update what
// names the moved flow (its epoll Ref). F should hold no pointers, so that
// the garbage collector never scans the array. Every method is
// allocation-free. Like everything in flow, a Table belongs to the
// event-loop goroutine.
type Table[F any] struct {
	flows []F
	idx   Index
	// Budget is shared with the other handlers; nil is unlimited. A
	// flow takes a unit in Add and gives it back in Remove.
	Budget *Budget
}

// NewTable returns an empty table for up to capacity (>= 1) flows drawing
// on budget (nil: unlimited).
func NewTable[F any](capacity int, budget *Budget) Table[F] {
	if capacity < 1 {
		capacity = 1
	}
	return Table[F]{flows: make([]F, capacity), idx: NewIndex(capacity), Budget: budget}
}

// Len returns the number of live flows: positions [0, Len).
func (t *Table[F]) Len() int { return t.idx.Len() }

// Cap returns the capacity the table was made for.
func (t *Table[F]) Cap() int { return len(t.flows) }

// Full reports whether Add would fail: the table is full or the budget
// spent.
func (t *Table[F]) Full() bool { return t.idx.Full() || !t.Budget.Available() }

// At returns the flow at position i, which must be below Len.
func (t *Table[F]) At(i int) *F { return &t.flows[i] }

// Hash returns the table's seeded hash of a flow key's bytes.
func (t *Table[F]) Hash(key []byte) uint64 { return t.idx.Hash(key) }

// Probe starts a lookup of hash h: see Index.Probe.
func (t *Table[F]) Probe(h uint64) Probe { return t.idx.Probe(h) }

// Add appends a copy of *f, whose key hashes to hash, takes a unit of the
// budget and returns the flow's position; -1, changing nothing, if the
// table is Full.
func (t *Table[F]) Add(f *F, hash uint64) int {
	if t.idx.Full() || !t.Budget.Take() {
		return -1
	}
	i := t.idx.Insert(hash)
	t.flows[i] = *f
	return i
}

// Remove drops the flow at position i, gives its budget unit back and
// moves the last flow into its place. It returns the old position of the
// flow that moved to i, or -1 if i was the last.
func (t *Table[F]) Remove(i int) (moved int) {
	moved = t.idx.Remove(i)
	if moved >= 0 {
		t.flows[i] = t.flows[moved]
	}
	var zero F
	t.flows[t.idx.Len()] = zero
	t.Budget.Give()
	return moved
}

// Check verifies the index's invariants (see Index.Check). It is meant for
// tests.
func (t *Table[F]) Check() error { return t.idx.Check() }
