// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gopasst/policy"
)

// parser is the state of one Parse call.
type parser struct {
	mode policy.Mode
	c    *policy.Config

	fromFile bool            // c was loaded from --config: first list option replaces
	started  map[string]bool // list fields already given on the command line

	aPrefix bool   // an IPv4 -a carried /PLEN
	nGiven  bool   // -n was given
	repair  bool   // --repair-path other than "none" was given
	migrate bool   // --migrate-exit or --migrate-no-linger was given
	noCopy  string // the first of --no-copy-routes, --no-copy-addrs given

	eph *policy.PortRange // the host's ephemeral ports, read at first need
}

// ephemeral returns the host's ephemeral port range, which -t/-u/-T/-U
// specs without port ranges leave out (passt's fwd_probe_ephemeral()).
func (p *parser) ephemeral() policy.PortRange {
	if p.eph == nil {
		r := policy.ReadEphemeral()
		p.eph = &r
	}
	return *p.eph
}

// Limits from passt: PASST_MAXDNAME, LOGFILE_SIZE_MIN (rounded).
const (
	maxDNameLen = 253
	minLogSize  = 4096
)

// fresh clears a list field the first time the command line gives it, if
// the Config came from a file, so that the command line wins.
func (p *parser) fresh(key string, clear func()) {
	if p.fromFile && !p.started[key] {
		clear()
	}
	p.started[key] = true
}

// pastaOnly and passtOnly reject an option in the other mode with passt's
// wording.
func (p *parser) pastaOnly(o *option) error {
	if p.mode != policy.ModePasta {
		return plainError(o.name() + " is for pasta mode only")
	}
	return nil
}

func (p *parser) passtOnly(o *option) error {
	if p.mode == policy.ModePasta {
		return plainError(o.name() + " is for passt mode only")
	}
	return nil
}

// plainError is an error that already names its option: Parse does not
// prefix it with the option name.
type plainError string

func (e plainError) Error() string { return string(e) }

// setFamily puts a into list, replacing an address of the same family.
func setFamily(list []netip.Addr, a netip.Addr) []netip.Addr {
	for i, x := range list {
		if x.Is4() == a.Is4() {
			list[i] = a
			return list
		}
	}
	return append(list, a)
}

// flag returns an apply function that sets a bool field.
func flag(field func(c *policy.Config) *bool, v bool) func(*parser, *option, string) error {
	return func(p *parser, _ *option, _ string) error {
		*field(p.c) = v
		return nil
	}
}

// pastaFlag is flag for pasta-only options.
func pastaFlag(field func(c *policy.Config) *bool) func(*parser, *option, string) error {
	return func(p *parser, o *option, _ string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		*field(p.c) = true
		return nil
	}
}

// path returns an apply function that stores a non-empty string.
func path(field func(c *policy.Config) *string) func(*parser, *option, string) error {
	return func(p *parser, _ *option, v string) error {
		if v == "" || len(v) > 4095 {
			return fmt.Errorf("invalid path %q", v)
		}
		*field(p.c) = v
		return nil
	}
}

// ifname returns an apply function that stores an interface name.
func ifname(field func(c *policy.Config) *string) func(*parser, *option, string) error {
	return func(p *parser, _ *option, v string) error {
		if err := policy.CheckIfname(v); err != nil {
			return err
		}
		*field(p.c) = v
		return nil
	}
}

// forward returns an apply function for -t/-u/-T/-U.
func forward(key string, field func(c *policy.Config) **policy.Forward, pastaOnly bool) func(*parser, *option, string) error {
	return func(p *parser, o *option, v string) error {
		if pastaOnly && p.mode != policy.ModePasta {
			return plainError("-" + string(o.short) + " is for pasta mode only")
		}
		f := field(p.c)
		p.fresh(key, func() { *f = nil })
		if *f == nil {
			*f = policy.NewForward(key[0], p.ephemeral())
		}
		nf, err := policy.ParseForward(v, *f, p.mode)
		if err != nil {
			return err
		}
		*f = nf
		return nil
	}
}

// nat returns an apply function for --map-host-loopback/--map-guest-addr.
func nat(field func(c *policy.Config) *[]netip.Addr, none func(c *policy.Config)) func(*parser, *option, string) error {
	return func(p *parser, o *option, v string) error {
		l := field(p.c)
		p.fresh(o.long, func() { *l = nil })
		if v == "none" {
			*l = nil
			none(p.c)
			return nil
		}
		a, err := policy.ParseUnicast(v, false)
		if err != nil {
			return fmt.Errorf("invalid address to remap to host %q", v)
		}
		*l = setFamily(*l, a)
		return nil
	}
}

// perFamily returns an apply function for options kept once per family.
func perFamily(field func(c *policy.Config) *[]netip.Addr, loopback bool, what string) func(*parser, *option, string) error {
	return func(p *parser, o *option, v string) error {
		a, err := policy.ParseUnicast(v, loopback)
		if err != nil {
			return fmt.Errorf("invalid %s %q", what, v)
		}
		l := field(p.c)
		p.fresh(o.long, func() { *l = nil })
		*l = setFamily(*l, a)
		return nil
	}
}

// errStop wraps a sentinel that ends parsing successfully (help, version).
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

func stop(err error) func(*parser, *option, string) error {
	return func(*parser, *option, string) error { return errStop{err} }
}

// options is passt's options[] table plus our --config. Order matters only
// for the "ambiguous" message.
var options = []option{
	{long: "debug", short: 'd', apply: func(p *parser, _ *option, _ string) error {
		p.c.Debug, p.c.Quiet = true, false
		return nil
	}},
	{long: "trace", apply: func(p *parser, _ *option, _ string) error {
		p.c.Trace, p.c.Debug, p.c.Quiet = true, true, false
		return nil
	}},
	{long: "quiet", short: 'q', apply: func(p *parser, _ *option, _ string) error {
		p.c.Quiet, p.c.Debug, p.c.Trace = true, false, false
		return nil
	}},
	{long: "foreground", short: 'f', apply: flag(func(c *policy.Config) *bool { return &c.Foreground }, true)},
	{long: "stderr", short: 'e', apply: func(*parser, *option, string) error { return nil }}, // deprecated no-op
	{long: "log-file", short: 'l', arg: true, apply: path(func(c *policy.Config) *string { return &c.LogFile })},
	{long: "log-size", arg: true, apply: func(p *parser, _ *option, v string) error {
		n, err := strconv.ParseUint(v, 0, 63)
		if err != nil || n < minLogSize {
			return fmt.Errorf("invalid size %q (minimum %d)", v, minLogSize)
		}
		p.c.LogSize = int64(n)
		return nil
	}},
	{long: "help", short: 'h', apply: stop(ErrHelp)},
	{long: "version", apply: stop(ErrVersion)},
	{long: "runas", arg: true, apply: func(p *parser, _ *option, v string) error {
		if v == "" || strings.Count(v, ":") > 1 || strings.HasPrefix(v, ":") || strings.HasSuffix(v, ":") {
			return fmt.Errorf("invalid user %q", v)
		}
		p.c.RunAs = v
		return nil
	}},
	{long: "stats", arg: true, apply: func(p *parser, _ *option, v string) error {
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return fmt.Errorf("invalid delay %q", v)
		}
		p.c.Stats = time.Duration(n) * time.Second
		return nil
	}},
	{long: "conf-path", short: 'c', arg: true, apply: path(func(c *policy.Config) *string { return &c.ConfPath })},
	{long: "config", arg: true, apply: path(func(c *policy.Config) *string { return &c.ConfigFile })},

	{long: "socket", short: 's', arg: true, apply: socketPath},
	{long: "socket-path", short: 's', arg: true, apply: socketPath},
	{long: "fd", short: 'F', arg: true, apply: func(p *parser, _ *option, v string) error {
		n, err := strconv.ParseUint(v, 0, 31)
		if err != nil {
			return fmt.Errorf("invalid fd %q", v)
		}
		p.c.Fd, p.c.OneOff, p.c.Socket = int(n), true, "" // the last of -s and -F wins
		return nil
	}},
	{long: "one-off", short: '1', apply: func(p *parser, o *option, _ string) error {
		if err := p.passtOnly(o); err != nil {
			return err
		}
		p.c.OneOff = true
		return nil
	}},
	{long: "vhost-user", apply: func(p *parser, o *option, _ string) error {
		if err := p.passtOnly(o); err != nil {
			return err
		}
		p.c.VhostUser = true
		return nil
	}},
	{long: "print-capabilities", apply: func(p *parser, _ *option, _ string) error {
		// Both modes, as passt 2026 (pasta prints them too).
		p.c.PrintCapabilities = true
		return errStop{ErrCapabilities}
	}},
	{long: "repair-path", arg: true, apply: func(p *parser, o *option, v string) error {
		if err := p.passtOnly(o); err != nil {
			return err
		}
		if v == "" {
			return fmt.Errorf("invalid path %q", v)
		}
		p.repair = v != "none"
		p.c.RepairPath = v
		return nil
	}},
	{long: "migrate-exit", apply: migrate(func(c *policy.Config) *bool { return &c.MigrateExit })},
	{long: "migrate-no-linger", apply: migrate(func(c *policy.Config) *bool { return &c.MigrateNoLinger })},
	{long: "chroot-fallback", apply: flag(func(c *policy.Config) *bool { return &c.ChrootFallback }, true)},

	{long: "pcap", short: 'p', arg: true, apply: path(func(c *policy.Config) *string { return &c.PcapFile })},
	{long: "pid", short: 'P', arg: true, apply: path(func(c *policy.Config) *string { return &c.PidFile })},
	{long: "mtu", short: 'm', arg: true, apply: func(p *parser, _ *option, v string) error {
		n, err := policy.ParseMTU(v)
		if err != nil {
			return err
		}
		p.c.MTU, p.c.MTUSet = n, true
		return nil
	}},
	{long: "address", short: 'a', arg: true, apply: func(p *parser, o *option, v string) error {
		pf, err := policy.ParseGuestAddress(v)
		if err != nil {
			return err
		}
		a := pf.Addr()
		if pf.Bits() >= 0 && a.Is4() {
			if p.nGiven {
				return errors.New("redundant prefix length specification")
			}
			p.aPrefix = true
		}
		p.fresh(o.long, func() { p.c.Addresses = nil })
		for i, x := range p.c.Addresses {
			if x.Addr().Is4() == a.Is4() {
				p.c.Addresses[i] = pf
				return nil
			}
		}
		p.c.Addresses = append(p.c.Addresses, pf)
		return nil
	}},
	{long: "netmask", short: 'n', arg: true, apply: func(p *parser, _ *option, v string) error {
		if p.aPrefix {
			return errors.New("redundant prefix length specification")
		}
		n, err := policy.ParseNetmask(v)
		if err != nil {
			return err
		}
		p.c.Netmask, p.nGiven = n, true
		return nil
	}},
	{long: "mac-addr", short: 'M', arg: true, apply: func(p *parser, _ *option, v string) error {
		if _, err := policy.ParseMAC(v); err != nil {
			return err
		}
		p.c.MAC = v
		return nil
	}},
	{long: "gateway", short: 'g', arg: true, apply: perFamily(func(c *policy.Config) *[]netip.Addr { return &c.Gateways }, false, "gateway address")},
	{long: "interface", short: 'i', arg: true, apply: func(p *parser, _ *option, v string) error {
		// Validated now, as passt's conf(): if_nametoindex() or die.
		if err := policy.CheckIfname(v); err != nil {
			return err
		}
		if err := LookupInterface(v); err != nil {
			return plainError(fmt.Sprintf("invalid interface name %s: %v", v, err))
		}
		p.c.Interface = v
		return nil
	}},
	{long: "outbound", short: 'o', arg: true, apply: perFamily(func(c *policy.Config) *[]netip.Addr { return &c.Outbound }, true, "or redundant outbound address")},
	{long: "outbound-if4", arg: true, apply: ifname(func(c *policy.Config) *string { return &c.OutboundIf4 })},
	{long: "outbound-if6", arg: true, apply: ifname(func(c *policy.Config) *string { return &c.OutboundIf6 })},
	{long: "dns", short: 'D', arg: true, apply: func(p *parser, o *option, v string) error {
		p.fresh(o.long, func() { p.c.DNS = nil })
		if v == "none" {
			p.c.NoDNS, p.c.DNS, p.c.DNSForward, p.c.DNSHost = true, nil, nil, nil
			return nil
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("cannot use DNS address %q", v)
		}
		p.c.NoDNS = false
		p.c.DNS = append(p.c.DNS, a.Unmap())
		return nil
	}},
	{long: "dns-forward", arg: true, apply: perFamily(func(c *policy.Config) *[]netip.Addr { return &c.DNSForward }, false, "DNS forwarding address")},
	{long: "dns-host", arg: true, apply: perFamily(func(c *policy.Config) *[]netip.Addr { return &c.DNSHost }, true, "host nameserver address")},
	{long: "search", short: 'S', arg: true, apply: func(p *parser, o *option, v string) error {
		p.fresh(o.long, func() { p.c.Search = nil })
		if v == "none" {
			p.c.NoSearch, p.c.Search = true, nil
			return nil
		}
		doms := strings.Fields(v)
		if len(doms) == 0 {
			return fmt.Errorf("cannot use DNS search domain %q", v)
		}
		for _, d := range doms {
			if len(d) > maxDNameLen {
				return fmt.Errorf("cannot use DNS search domain %q", d)
			}
		}
		p.c.NoSearch = false
		p.c.Search = append(p.c.Search, doms...)
		return nil
	}},
	{long: "hostname", short: 'H', arg: true, apply: func(p *parser, _ *option, v string) error {
		if v == "" || len(v) > maxDNameLen {
			return fmt.Errorf("invalid hostname %q", v)
		}
		p.c.Hostname = v
		return nil
	}},
	{long: "fqdn", arg: true, apply: func(p *parser, _ *option, v string) error {
		if v == "" || len(v) > maxDNameLen {
			return fmt.Errorf("invalid FQDN %q", v)
		}
		p.c.FQDN = v
		return nil
	}},
	{long: "no-tcp", apply: flag(func(c *policy.Config) *bool { return &c.NoTCP }, true)},
	{long: "no-udp", apply: flag(func(c *policy.Config) *bool { return &c.NoUDP }, true)},
	{long: "no-icmp", apply: flag(func(c *policy.Config) *bool { return &c.NoICMP }, true)},
	{long: "no-dhcp", apply: flag(func(c *policy.Config) *bool { return &c.NoDHCP }, true)},
	{long: "no-dhcpv6", apply: flag(func(c *policy.Config) *bool { return &c.NoDHCPv6 }, true)},
	{long: "no-ndp", apply: flag(func(c *policy.Config) *bool { return &c.NoNDP }, true)},
	{long: "no-ra", apply: flag(func(c *policy.Config) *bool { return &c.NoRA }, true)},
	{long: "no-splice", apply: flag(func(c *policy.Config) *bool { return &c.NoSplice }, true)},
	{long: "splice-only", apply: pastaFlag(func(c *policy.Config) *bool { return &c.SpliceOnly })},
	{long: "freebind", apply: flag(func(c *policy.Config) *bool { return &c.Freebind }, true)},
	{long: "no-map-gw", apply: flag(func(c *policy.Config) *bool { return &c.NoMapGW }, true)},
	{long: "ipv4-only", short: '4', apply: func(p *parser, _ *option, _ string) error {
		p.c.IPv4Only, p.c.IPv6Only = true, false
		return nil
	}},
	{long: "ipv6-only", short: '6', apply: func(p *parser, _ *option, _ string) error {
		p.c.IPv6Only, p.c.IPv4Only = true, false
		return nil
	}},
	{long: "tcp-ports", short: 't', arg: true, apply: forward("t", func(c *policy.Config) **policy.Forward { return &c.TCPIn }, false)},
	{long: "udp-ports", short: 'u', arg: true, apply: forward("u", func(c *policy.Config) **policy.Forward { return &c.UDPIn }, false)},
	{long: "tcp-ns", short: 'T', arg: true, apply: forward("T", func(c *policy.Config) **policy.Forward { return &c.TCPOut }, true)},
	{long: "udp-ns", short: 'U', arg: true, apply: forward("U", func(c *policy.Config) **policy.Forward { return &c.UDPOut }, true)},
	{long: "map-host-loopback", arg: true, apply: nat(func(c *policy.Config) *[]netip.Addr { return &c.MapHostLoopback },
		func(c *policy.Config) { c.NoMapHostLoopback, c.NoMapGW = true, true })},
	{long: "map-guest-addr", arg: true, apply: nat(func(c *policy.Config) *[]netip.Addr { return &c.MapGuestAddr },
		func(c *policy.Config) { c.NoMapGuestAddr = true })},

	// DHCP DNS and search list switches, one per mode as in passt.
	{long: "dhcp-dns", apply: func(p *parser, o *option, _ string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		p.c.NoDHCPDNS = false
		return nil
	}},
	{long: "no-dhcp-dns", apply: func(p *parser, o *option, _ string) error {
		if err := p.passtOnly(o); err != nil {
			return err
		}
		p.c.NoDHCPDNS = true
		return nil
	}},
	{long: "dhcp-search", apply: func(p *parser, o *option, _ string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		p.c.NoDHCPSearch = false
		return nil
	}},
	{long: "no-dhcp-search", apply: func(p *parser, o *option, _ string) error {
		if err := p.passtOnly(o); err != nil {
			return err
		}
		p.c.NoDHCPSearch = true
		return nil
	}},

	// pasta only.
	{long: "ns-ifname", short: 'I', arg: true, apply: func(p *parser, o *option, v string) error {
		if p.mode != policy.ModePasta {
			return plainError("-I is for pasta mode only")
		}
		if err := policy.CheckIfname(v); err != nil {
			return err
		}
		p.c.NsIfname = v
		return nil
	}},
	{long: "userns", arg: true, apply: func(p *parser, o *option, v string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		if v == "" {
			return fmt.Errorf("invalid userns %q", v)
		}
		p.c.UserNS, p.c.NetNSOnly = v, false
		return nil
	}},
	{long: "netns", arg: true, apply: func(p *parser, o *option, v string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		if v == "" || len(v) > 4095 {
			return fmt.Errorf("invalid network namespace %q", v)
		}
		if !strings.Contains(v, "/") {
			v = "/run/netns/" + v // a name, as ip-netns(8)
		}
		p.c.NetNS = v
		return nil
	}},
	{long: "netns-only", apply: func(p *parser, o *option, _ string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		p.c.NetNSOnly, p.c.UserNS = true, ""
		return nil
	}},
	{long: "no-netns-quit", apply: pastaFlag(func(c *policy.Config) *bool { return &c.NoNetNSQuit })},
	{long: "config-net", apply: pastaFlag(func(c *policy.Config) *bool { return &c.ConfigNet })},
	// Deprecated in passt. gopasst always sets up one address and the
	// default route, what these ask for; they still need --config-net.
	{long: "no-copy-routes", apply: noCopy},
	{long: "no-copy-addrs", apply: noCopy},
	{long: "ns-mac-addr", arg: true, apply: func(p *parser, o *option, v string) error {
		if err := p.pastaOnly(o); err != nil {
			return err
		}
		if _, err := policy.ParseMAC(v); err != nil {
			return err
		}
		p.c.NsMAC = v
		return nil
	}},
	{long: "host-lo-to-ns-lo", apply: pastaFlag(func(c *policy.Config) *bool { return &c.HostLoToNsLo })},

	// Our own: egress policy, flow limits, audit log. Rules and limits
	// add to those of the --config file.
	{long: "egress-allow", arg: true, apply: egressRule(func(c *policy.Config) *[]policy.Rule { return &c.Egress.Allow })},
	{long: "egress-deny", arg: true, apply: egressRule(func(c *policy.Config) *[]policy.Rule { return &c.Egress.Deny })},
	{long: "max-flows", arg: true, apply: flowLimit(func(c *policy.Config) *policy.FlowLimits { return &c.Limits.MaxFlows }, false)},
	{long: "flow-rate", arg: true, apply: flowLimit(func(c *policy.Config) *policy.FlowLimits { return &c.Limits.FlowRate }, true)},
	{long: "audit-log", arg: true, apply: func(p *parser, _ *option, v string) error {
		if v == "" || len(v) > 4095 {
			return fmt.Errorf("invalid path %q", v)
		}
		p.c.AuditLog = v
		return nil
	}},
}

// egressRule returns an apply function for --egress-allow/--egress-deny:
// the rules add to the list (the file's, then earlier options').
func egressRule(field func(c *policy.Config) *[]policy.Rule) func(*parser, *option, string) error {
	return func(p *parser, _ *option, v string) error {
		r, err := policy.ParseRule(v)
		if err != nil {
			return err
		}
		l := field(p.c)
		*l = append(*l, r...)
		return nil
	}
}

// flowLimit returns an apply function for --max-flows/--flow-rate.
func flowLimit(field func(c *policy.Config) *policy.FlowLimits, rate bool) func(*parser, *option, string) error {
	return func(p *parser, _ *option, v string) error {
		proto, n, err := policy.ParseLimit(v, rate)
		if err != nil {
			return err
		}
		field(p.c).Set(proto, n)
		return nil
	}
}

// migrate records --migrate-exit or --migrate-no-linger, vhost-user
// (passt) options: finish refuses them without --vhost-user, and
// Unsupported with it (live migration is not built).
func migrate(field func(*policy.Config) *bool) func(*parser, *option, string) error {
	return func(p *parser, o *option, _ string) error {
		if err := p.passtOnly(o); err != nil {
			return err
		}
		p.migrate = true
		*field(p.c) = true
		return nil
	}
}

func noCopy(p *parser, o *option, _ string) error {
	if err := p.pastaOnly(o); err != nil {
		return err
	}
	if p.noCopy == "" {
		p.noCopy = o.name()
	}
	if o.long == "no-copy-routes" {
		p.c.NoCopyRoutes = true
	} else {
		p.c.NoCopyAddrs = true
	}
	return nil
}

func socketPath(p *parser, _ *option, v string) error {
	if p.mode == policy.ModePasta {
		return plainError("-s is for passt / vhost-user mode only")
	}
	if v == "" || len(v) > 107 {
		return fmt.Errorf("invalid socket path %q", v)
	}
	p.c.Socket, p.c.Fd = v, -1 // the last of -s and -F wins, as passt's
	return nil
}
