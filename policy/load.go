// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// fileConfig is what a TOML file may say: Config's own tagged fields, plus
// the fields that need a string form (addresses with optional prefix
// length, forwarding specs), which shadow Config's by key.
type fileConfig struct {
	Config
	Addresses []string `toml:"address"`      // "ADDR" or "ADDR/PLEN", as -a
	TCPPorts  []string `toml:"tcp_ports"`    // specs as -t
	UDPPorts  []string `toml:"udp_ports"`    // specs as -u
	TCPNS     []string `toml:"tcp_ns_ports"` // specs as -T (pasta)
	UDPNS     []string `toml:"udp_ns_ports"` // specs as -U (pasta)
	Egress    struct {
		Allow []string `toml:"allow"` // rules as --egress-allow
		Deny  []string `toml:"deny"`  // rules as --egress-deny
	} `toml:"egress"`
}

// Keys valid only in one mode, as the matching options are.
var (
	pastaOnlyKeys = []string{"ns_ifname", "userns", "netns", "netns_only", "no_netns_quit",
		"config_net", "ns_mac", "no_splice", "host_lo_to_ns_lo", "tcp_ns_ports", "udp_ns_ports"}
	passtOnlyKeys = []string{"socket", "one_off"}
)

// Load decodes the TOML file at path into into, strictly: an unknown key, a
// value of the wrong type, or a bad value is an error naming the key and its
// line. Keys absent from the file leave into's fields alone; lists replace
// into's lists. Forwarding rules are strings in the -t/-u/-T/-U grammar,
// parsed against into.Mode.
func Load(path string, into *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := decode(string(data), into); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// decode does Load's work on the file contents.
func decode(data string, into *Config) error {
	fc := fileConfig{Config: *into}
	md, err := toml.Decode(data, &fc)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			if pe.LastKey != "" {
				return fmt.Errorf("line %d: key %q: %s", pe.Position.Line, pe.LastKey, oneLine(pe.Message))
			}
			return fmt.Errorf("line %d: %s", pe.Position.Line, oneLine(pe.Message))
		}
		return errors.New(oneLine(err.Error())) // already "toml: line N (last key ...): ..."
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return fmt.Errorf("line %d: unknown key %q", keyLine(data, k), k.String())
	}
	bad := func(key string, err error) error {
		return fmt.Errorf("line %d: key %q: %w", keyLine(data, toml.Key(strings.Split(key, "."))), key, err)
	}
	only := passtOnlyKeys
	if into.Mode == ModePasst {
		only = pastaOnlyKeys
	}
	for _, k := range only {
		if md.IsDefined(k) {
			return bad(k, fmt.Errorf("not valid in %s mode", modeName(into.Mode)))
		}
	}

	c := fc.Config
	if md.IsDefined("mtu") {
		if err := CheckMTU(c.MTU); err != nil {
			return bad("mtu", err)
		}
		c.MTUSet = true
	}
	if md.IsDefined("netmask") && (c.Netmask < 0 || c.Netmask > 32) {
		return bad("netmask", fmt.Errorf("invalid netmask %d", c.Netmask))
	}
	if md.IsDefined("log_size") && c.LogSize < 0 {
		return bad("log_size", fmt.Errorf("invalid size %d", c.LogSize))
	}
	if md.IsDefined("address") {
		c.Addresses = nil
		for _, s := range fc.Addresses {
			p, err := ParseGuestAddress(s)
			if err != nil {
				return bad("address", err)
			}
			c.Addresses = append(c.Addresses, p)
		}
	}
	for _, m := range []struct {
		key string
		val string
	}{{"mac", c.MAC}, {"ns_mac", c.NsMAC}} {
		if md.IsDefined(m.key) {
			if _, err := ParseMAC(m.val); err != nil {
				return bad(m.key, err)
			}
		}
	}
	for _, a := range []struct {
		key  string
		list []netip.Addr
		lo   bool
	}{
		{"gateway", c.Gateways, false}, {"outbound", c.Outbound, false},
		{"dns_forward", c.DNSForward, false}, {"dns_host", c.DNSHost, true},
		{"map_host_loopback", c.MapHostLoopback, false}, {"map_guest_addr", c.MapGuestAddr, false},
	} {
		for _, x := range a.list {
			if _, err := ParseUnicast(x.String(), a.lo); err != nil {
				return bad(a.key, err)
			}
		}
	}
	for _, k := range []struct{ key, val string }{
		{"interface", c.Interface}, {"outbound_if4", c.OutboundIf4},
		{"outbound_if6", c.OutboundIf6}, {"ns_ifname", c.NsIfname},
	} {
		if md.IsDefined(k.key) {
			if err := CheckIfname(k.val); err != nil {
				return bad(k.key, err)
			}
		}
	}
	if md.IsDefined("ipv4_only") && md.IsDefined("ipv6_only") && c.IPv4Only && c.IPv6Only {
		return bad("ipv6_only", errors.New("conflicts with ipv4_only"))
	}
	eph := ReadEphemeral()
	for _, p := range []struct {
		key   string
		opt   byte
		specs []string
		dst   **Forward
	}{
		{"tcp_ports", 't', fc.TCPPorts, &c.TCPIn}, {"udp_ports", 'u', fc.UDPPorts, &c.UDPIn},
		{"tcp_ns_ports", 'T', fc.TCPNS, &c.TCPOut}, {"udp_ns_ports", 'U', fc.UDPNS, &c.UDPOut},
	} {
		if !md.IsDefined(p.key) {
			continue
		}
		f := NewForward(p.opt, eph)
		for _, s := range p.specs {
			if f, err = ParseForward(s, f, into.Mode); err != nil {
				return bad(p.key, err)
			}
		}
		*p.dst = f
	}
	for _, r := range []struct {
		key   string
		specs []string
		dst   *[]Rule
	}{{"egress.allow", fc.Egress.Allow, &c.Egress.Allow}, {"egress.deny", fc.Egress.Deny, &c.Egress.Deny}} {
		if !md.IsDefined(strings.Split(r.key, ".")...) {
			continue
		}
		*r.dst = nil
		for _, spec := range r.specs {
			rules, err := ParseRule(spec)
			if err != nil {
				return bad(r.key, err)
			}
			*r.dst = append(*r.dst, rules...)
		}
	}
	for _, l := range []struct {
		key string
		v   FlowLimits
	}{{"limits.max_flows", c.Limits.MaxFlows}, {"limits.flow_rate", c.Limits.FlowRate}} {
		if err := l.v.check(); err != nil {
			return bad(l.key, err)
		}
	}
	if md.IsDefined("audit_log") && c.AuditLog == "" {
		return bad("audit_log", errors.New("empty path"))
	}
	*into = c
	return nil
}

// oneLine escapes the control characters of a decoder's message, as Go
// string literals do, so that the error stays one log line: the TOML
// lexer quotes the text it stopped at, a newline included ("not a binary
// number: '0b\n'").
func oneLine(msg string) string {
	if !strings.ContainsFunc(msg, unicode.IsControl) {
		return msg
	}
	q := strconv.Quote(msg)
	return q[1 : len(q)-1]
}

// keyLine finds the line (from 1) where key is set, by a light scan of the
// file: table headers and "key =" lines, dotted keys included. A key not
// found is looked for as its parent (a key inside an inline table is on
// its parent's line). It returns 0 if not found.
func keyLine(data string, key toml.Key) int {
	for ; len(key) > 0; key = key[:len(key)-1] {
		if n := keyLine1(data, key); n > 0 {
			return n
		}
	}
	return 0
}

func keyLine1(data string, key toml.Key) int {
	want := key.String()
	var table string
	for i, line := range strings.Split(data, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			h := strings.Trim(l, "[] \t")
			if j := strings.IndexByte(h, '#'); j >= 0 {
				h = strings.Trim(h[:j], "[] \t")
			}
			table = normKey(h)
			if table == want {
				return i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		full := normKey(k)
		if table != "" {
			full = table + "." + full
		}
		if full == want || strings.HasPrefix(full, want+".") {
			return i + 1
		}
	}
	return 0
}

// normKey removes spaces and quotes around dotted key parts.
func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

func modeName(m Mode) string {
	if m == ModePasta {
		return "pasta"
	}
	return "passt"
}
