// SPDX-License-Identifier: GPL-2.0-or-later

package flow

// DefaultBudget is the number of flows all handlers of one guest may hold
// together: passt's FLOW_MAX (2^17 - 1).
const DefaultBudget = 1<<17 - 1

// Budget is the flow capacity shared by the TCP, UDP and ICMP handlers of
// one engine, as passt's flow table is shared by every protocol: each
// handler has a fixed table of its own, and a new flow also needs a unit
// of the budget, so that one protocol cannot take the memory and file
// descriptors meant for all. A nil *Budget is unlimited. Like everything
// in flow, it belongs to the event-loop goroutine.
type Budget struct {
	max  int
	used int
}

// NewBudget returns a budget of max flows (DefaultBudget if max <= 0).
func NewBudget(max int) *Budget {
	if max <= 0 {
		max = DefaultBudget
	}
	return &Budget{max: max}
}

// Available reports whether a flow may be opened.
func (b *Budget) Available() bool { return b == nil || b.used < b.max }

// Take accounts for a new flow; it reports false, taking nothing, when the
// budget is spent.
func (b *Budget) Take() bool {
	if b == nil {
		return true
	}
	if b.used >= b.max {
		return false
	}
	b.used++
	return true
}

// Give returns the unit of a closed flow.
func (b *Budget) Give() {
	if b != nil && b.used > 0 {
		b.used--
	}
}

// Used returns the number of flows held.
func (b *Budget) Used() int {
	if b == nil {
		return 0
	}
	return b.used
}

// Max returns the budget's size; 0 for a nil (unlimited) budget.
func (b *Budget) Max() int {
	if b == nil {
		return 0
	}
	return b.max
}
