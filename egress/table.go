// SPDX-License-Identifier: GPL-2.0-or-later

package egress

import (
	"net/netip"

	"gopasst/policy"
)

// Table is the egress rules compiled for lookup: one binary trie per
// address family, with each rule hung on the node of its prefix. Lookup
// walks from the root along the destination's bits, at most 32 or 128
// steps and usually far fewer (the walk ends where the trie does), and
// checks only the rules on that path: its cost depends on the prefix
// lengths, not on the number of rules. Nodes live in one slice and name
// their children by index, so the table is a few allocations in all and
// Lookup allocates nothing.
//
// A Table is read-only after Compile and safe for concurrent use.
type Table struct {
	nodes      []node
	onNode     []int32       // rule indexes, grouped by node (node.first, node.n)
	rules      []policy.Rule // deny rules first, then allow rules
	nDeny      int
	allowEmpty bool
	root4      int32
	root6      int32
}

// node is one trie node: children by next bit (0 = none: the roots are
// the only nodes nobody points to, and they are never children) and the
// rules whose prefix ends here.
type node struct {
	child [2]int32
	first int32
	n     int32
}

// Compile builds a Table from e. A nil or empty e gives a table that
// allows everything.
func Compile(e *policy.Egress) *Table {
	t := &Table{nodes: make([]node, 2), root4: 0, root6: 1}
	if e == nil {
		t.allowEmpty = true
		return t
	}
	t.rules = append(append(t.rules, e.Deny...), e.Allow...)
	t.nDeny, t.allowEmpty = len(e.Deny), len(e.Allow) == 0
	lists := make([][]int32, 2, 64)
	for i := range t.rules {
		p := t.rules[i].Prefix
		a := p.Addr().Unmap()
		b := a.As16()
		bitOff, n := 96, t.root4
		if a.Is6() {
			bitOff, n = 0, t.root6
		}
		for d := 0; d < p.Bits(); d++ {
			bit := addrBit(&b, bitOff+d)
			c := t.nodes[n].child[bit]
			if c == 0 {
				c = int32(len(t.nodes))
				t.nodes = append(t.nodes, node{})
				lists = append(lists, nil)
				t.nodes[n].child[bit] = c
			}
			n = c
		}
		lists[n] = append(lists[n], int32(i))
	}
	for i, l := range lists {
		t.nodes[i].first, t.nodes[i].n = int32(len(t.onNode)), int32(len(l))
		t.onNode = append(t.onNode, l...)
	}
	return t
}

func addrBit(b *[16]byte, i int) int { return int(b[i>>3]>>(7-uint(i&7))) & 1 }

// Lookup returns the verdict for a flow of protocol p (one of
// policy.ProtoTCP, ProtoUDP, ProtoICMP) to dst, port (ignored for ICMP),
// and the rule that decided, or nil when none did (allowed because there
// are no allow rules, or denied because none matched). Deny wins over
// allow: any matching deny rule on the path decides. IPv4-mapped IPv6 is
// matched as IPv4. No allocation.
func (t *Table) Lookup(p policy.Proto, dst netip.Addr, port uint16) (policy.Verdict, *policy.Rule) {
	if t == nil || len(t.rules) == 0 {
		return policy.VerdictAllow, nil
	}
	dst = dst.Unmap()
	if !dst.IsValid() {
		return policy.VerdictDeny, nil
	}
	b := dst.As16()
	bitOff, bits, n := 96, 32, t.root4
	if dst.Is6() {
		bitOff, bits, n = 0, 128, t.root6
	}
	var allow *policy.Rule
	for d := 0; ; d++ {
		nd := &t.nodes[n]
		for _, ri := range t.onNode[nd.first : nd.first+nd.n] {
			r := &t.rules[ri]
			if r.Proto&p == 0 || (len(r.Ports) > 0 && (p == policy.ProtoICMP || !r.MatchesPort(port))) {
				continue
			}
			if int(ri) < t.nDeny {
				return policy.VerdictDeny, r
			}
			if allow == nil {
				allow = r
			}
		}
		if d == bits {
			break
		}
		c := nd.child[addrBit(&b, bitOff+d)]
		if c == 0 {
			break
		}
		n = c
	}
	switch {
	case allow != nil:
		return policy.VerdictAllow, allow
	case t.allowEmpty:
		return policy.VerdictAllow, nil
	}
	return policy.VerdictDeny, nil
}

// Len returns the number of rules (prefixes) in the table.
func (t *Table) Len() int { return len(t.rules) }
