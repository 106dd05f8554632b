// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxLimit bounds a limit value: more flows than this is no limit.
const MaxLimit = 1 << 24

// ParseLimit parses a --max-flows or --flow-rate value, PROTO=N, where
// PROTO is tcp, udp, icmp or any (all three). With rate set, N may end in
// "/s". N is 1..MaxLimit.
func ParseLimit(s string, rate bool) (Proto, int, error) {
	ps, ns, ok := strings.Cut(s, "=")
	if !ok {
		return 0, 0, fmt.Errorf("invalid limit %q: want PROTO=N", s)
	}
	var proto Proto
	for _, n := range protoNames {
		if ps == n.name {
			proto = n.p
		}
	}
	if proto == 0 {
		return 0, 0, fmt.Errorf("invalid limit %q: unknown protocol %q", s, ps)
	}
	if rate {
		ns = strings.TrimSuffix(ns, "/s")
	}
	n, err := strconv.ParseUint(ns, 10, 32)
	if err != nil || n == 0 || n > MaxLimit {
		return 0, 0, fmt.Errorf("invalid limit %q: want 1..%d", s, MaxLimit)
	}
	return proto, int(n), nil
}

// Set sets the limit of each protocol in p to n.
func (l *FlowLimits) Set(p Proto, n int) {
	if p&ProtoTCP != 0 {
		l.TCP = n
	}
	if p&ProtoUDP != 0 {
		l.UDP = n
	}
	if p&ProtoICMP != 0 {
		l.ICMP = n
	}
}

// check validates limits read from the file.
func (l FlowLimits) check() error {
	for _, v := range []struct {
		k string
		n int
	}{{"tcp", l.TCP}, {"udp", l.UDP}, {"icmp", l.ICMP}} {
		if v.n < 0 || v.n > MaxLimit {
			return fmt.Errorf("%s: invalid limit %d: want 0..%d", v.k, v.n, MaxLimit)
		}
	}
	return nil
}
