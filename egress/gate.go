// SPDX-License-Identifier: GPL-2.0-or-later

package egress

import (
	"net/netip"
	"strconv"
	"time"

	"gopasst/audit"
	"gopasst/policy"
)

// Proto indexes per-protocol state: TCP, UDP, ICMP.
const (
	iTCP = iota
	iUDP
	iICMP
	numProto
)

var protoName = [numProto]string{"tcp", "udp", "icmp"}

func index(p policy.Proto) int {
	switch p {
	case policy.ProtoUDP:
		return iUDP
	case policy.ProtoICMP:
		return iICMP
	}
	return iTCP
}

// Stats are the gate's counters, per protocol (TCP, UDP, ICMP).
type Stats struct {
	Denied  [numProto]uint64 // flows refused by a rule
	Limited [numProto]uint64 // flows refused by a limit
	Open    [numProto]uint64 // outbound flows open now
}

// Gate is one guest's flow policy: the compiled egress rules, the flow
// limits, the counters and the audit log. Handlers call Open where a flow
// would start and Close where it ends; a nil *Gate allows everything and
// logs nothing. It belongs to the event-loop goroutine.
type Gate struct {
	tab  *Table
	max  [numProto]int   // concurrent outbound flows; 0 = no limit
	cost [numProto]int64 // ns of credit a new flow costs (1s / rate); 0 = no rate limit
	// credit is a token bucket in nanoseconds: it grows with time up to
	// one second's worth, so a burst of up to rate flows passes at once.
	credit [numProto]int64
	last   [numProto]int64

	maxText  [numProto]string // "max_flows tcp=N", for the audit log
	rateText [numProto]string // "flow_rate tcp=N/s"

	st  Stats
	log *audit.Log
	ev  audit.Event // scratch, so that Emit gets a pointer without allocating
}

// New makes a gate for the rules and limits of c, logging to log (nil:
// no audit log).
func New(c *policy.Config, log *audit.Log) *Gate {
	g := &Gate{tab: Compile(&c.Egress), log: log}
	for i, v := range [numProto][2]int{
		{c.Limits.MaxFlows.TCP, c.Limits.FlowRate.TCP},
		{c.Limits.MaxFlows.UDP, c.Limits.FlowRate.UDP},
		{c.Limits.MaxFlows.ICMP, c.Limits.FlowRate.ICMP},
	} {
		g.max[i] = v[0]
		g.maxText[i] = "max_flows " + protoName[i] + "=" + strconv.Itoa(v[0])
		if v[1] > 0 {
			g.cost[i] = int64(time.Second) / int64(v[1])
			g.credit[i] = int64(time.Second)
			g.rateText[i] = "flow_rate " + protoName[i] + "=" + strconv.Itoa(v[1]) + "/s"
		}
	}
	return g
}

// Stats returns the counters.
func (g *Gate) Stats() Stats {
	if g == nil {
		return Stats{}
	}
	return g.st
}

// AuditDropped returns the number of audit events lost.
func (g *Gate) AuditDropped() uint64 {
	if g == nil {
		return 0
	}
	return g.log.Dropped()
}

// Open decides on a new flow of protocol p opened by dir's side: guest is
// the guest's end, host the host side's, for outbound flows the real
// destination (after the gateway and DNS mappings) the rules are checked
// against. now is the monotonic time in ns. Inbound flows are not egress:
// they are always allowed, only logged. It returns false when the flow
// must be refused (denied or over a limit, counted and logged); on true
// the caller must call Close, with the same p and dir, when the flow ends.
func (g *Gate) Open(p policy.Proto, dir audit.Dir, guest, host netip.AddrPort, now int64) bool {
	if g == nil {
		return true
	}
	i := index(p)
	if dir == audit.Inbound {
		g.emit(audit.KindOpen, i, dir, guest, host, "")
		return true
	}
	v, r := g.tab.Lookup(p, host.Addr(), host.Port())
	if v != policy.VerdictAllow {
		g.st.Denied[i]++
		text := "default"
		if r != nil {
			text = r.Text
		}
		g.emit(audit.KindDeny, i, dir, guest, host, text)
		return false
	}
	if g.max[i] > 0 && g.st.Open[i] >= uint64(g.max[i]) {
		g.st.Limited[i]++
		g.emit(audit.KindLimit, i, dir, guest, host, g.maxText[i])
		return false
	}
	if g.cost[i] > 0 {
		c := g.credit[i] + now - g.last[i]
		if g.last[i] == 0 || c > int64(time.Second) {
			c = int64(time.Second)
		}
		g.last[i] = now
		if c < g.cost[i] {
			g.credit[i] = c
			g.st.Limited[i]++
			g.emit(audit.KindLimit, i, dir, guest, host, g.rateText[i])
			return false
		}
		g.credit[i] = c - g.cost[i]
	}
	g.st.Open[i]++
	rule := ""
	if r != nil {
		rule = r.Text
	}
	g.emit(audit.KindOpen, i, dir, guest, host, rule)
	return true
}

// Close records the end of a flow Open allowed: opened is the monotonic
// time Open was called, fromGuest and toGuest the payload bytes each way.
func (g *Gate) Close(p policy.Proto, dir audit.Dir, guest, host netip.AddrPort, opened, now int64, fromGuest, toGuest uint64) {
	if g == nil {
		return
	}
	i := index(p)
	if dir == audit.Outbound && g.st.Open[i] > 0 {
		g.st.Open[i]--
	}
	if g.log == nil {
		return
	}
	g.ev = audit.Event{
		Kind: audit.KindClose, Proto: protoName[i], Dir: dir, Guest: guest, Host: host,
		BytesFromGuest: fromGuest, BytesToGuest: toGuest, Duration: time.Duration(now - opened),
	}
	g.log.Emit(&g.ev)
}

func (g *Gate) emit(k audit.Kind, i int, dir audit.Dir, guest, host netip.AddrPort, rule string) {
	if g.log == nil {
		return
	}
	g.ev = audit.Event{Kind: k, Proto: protoName[i], Dir: dir, Guest: guest, Host: host, Rule: rule}
	g.log.Emit(&g.ev)
}
