// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"gopasst/policy"
)

// HostInfo is what the host looks like, as far as Resolve cares: the
// template interface per family, and the resolver configuration. It is a
// plain value so that Resolve can be tested without a kernel; see
// HostInfoFromKernel.
type HostInfo struct {
	V4, V6 HostFamily

	Resolvers []netip.Addr // "nameserver" lines of resolv.conf, in order
	Search    []string     // "search" domains of resolv.conf
}

// HostFamily is the host's template interface for one IP family: the one
// carrying the default route (or the one named by -i).
type HostFamily struct {
	Ifname    string     // interface name; "" = no template interface
	Ifindex   int        // interface index; 0 = none
	MTU       int        // interface MTU, bytes; informational
	Addr      netip.Addr // host's address on it (IPv6: global scope); invalid = none
	PrefixLen int        // prefix length of Addr
	Gateway   netip.Addr // next hop of the default route; invalid = no default route
	LinkLocal netip.Addr // IPv6 only: host's link-local address on it
}

// Addresses of passt's "local mode", used for a family the host has no
// default route for (conf.c IP4_LL_GUEST_ADDR, IP4_LL_GUEST_GW,
// IP6_LL_GUEST_GW).
var (
	LocalAddr4      = netip.AddrFrom4([4]byte{169, 254, 2, 1})
	LocalGateway4   = netip.AddrFrom4([4]byte{169, 254, 2, 2})
	LocalPrefixLen4 = 16
	LocalGateway6   = netip.MustParseAddr("fe80::1")
)

// maxDNS is passt's MAXNS: resolvers advertised per family.
const maxDNS = 3

// Resolve turns the configuration and the host's view into the guest's
// network, with passt's defaults (conf(), conf_ip4(), conf_ip6(),
// get_dns() in conf.c):
//
//   - MTU 65520 unless -m; our MAC 9a:55:9a:55:9a:55 unless -M.
//   - Per family, unless -4/-6 turns it off: if the host has a default
//     route, the guest gets the host's address, prefix length and gateway
//     on that interface; otherwise "local mode", 169.254.2.1/16 via
//     169.254.2.2 for IPv4 and router fe80::1 for IPv6. -a, -n and -g
//     override either. In IPv6 local mode without -a there is no address to
//     hand out, so V6 stays disabled (V6.Addr invalid) although V6.Gateway
//     and OurLL6 are set.
//   - An IPv4 address without prefix length (-a ADDR, no -n, not copied
//     from the host) gets its classful length, as passt.
//   - MapHostLo: --map-host-loopback, else the gateway address unless
//     --no-map-gw or --map-host-loopback none. MapGuest: --map-guest-addr.
//     HostAddr: the host's own address (the guest's if the host has none).
//   - DNSForward: --dns-forward. DNSHost: --dns-host, else the first
//     resolv.conf nameserver of the family.
//   - DNS advertised: -D if given; else the resolv.conf nameservers, except
//     that a resolver the guest cannot reach as is, a loopback one such as
//     systemd-resolved's 127.0.0.53 (or one equal to MapHostLo), is
//     replaced by the --dns-forward address if set, else by MapHostLo (which
//     then also becomes DNSForward, so queries to it go to DNSHost), else
//     dropped. At most 3 per family. None if -D none or, for pasta by
//     default, --no-dhcp-dns; the forwarding above still applies.
//   - Search list: -S, else resolv.conf's; none if -S none or no-dhcp-search.
//   - OurLL6: the gateway if it is link-local, else fe80::1.
//   - --no-icmp implies --no-ndp; --config-net implies --no-ra; a family
//     that is off turns off its services (DHCP; NDP and DHCPv6).
func Resolve(cfg *policy.Config, host HostInfo) (*Net, error) {
	n := &Net{
		MTU:      policy.DefaultMTU,
		OurMAC:   DefaultOurMAC,
		GuestMAC: BroadcastMAC,
		Hostname: cfg.Hostname,
		FQDN:     cfg.FQDN,
		NoDHCP:   cfg.NoDHCP, NoDHCPv6: cfg.NoDHCPv6, NoNDP: cfg.NoNDP || cfg.NoICMP,
		NoRA: cfg.NoRA || cfg.ConfigNet, NoICMP: cfg.NoICMP, NoTCP: cfg.NoTCP, NoUDP: cfg.NoUDP,
	}
	if cfg.MTUSet {
		if err := policy.CheckMTU(cfg.MTU); err != nil {
			return nil, err
		}
		n.MTU = cfg.MTU
	}
	if cfg.MAC != "" {
		m, err := policy.ParseMAC(cfg.MAC)
		if err != nil {
			return nil, err
		}
		n.OurMAC = MAC(m)
	}
	if cfg.NsMAC != "" {
		m, err := policy.ParseMAC(cfg.NsMAC)
		if err != nil {
			return nil, err
		}
		n.GuestMAC = MAC(m)
	}
	if cfg.IPv4Only && cfg.IPv6Only {
		return nil, errors.New("both --ipv4-only and --ipv6-only given")
	}
	if !cfg.IPv6Only {
		resolveFamily(cfg, &host.V4, false, &n.V4)
	}
	if !cfg.IPv4Only {
		resolveFamily(cfg, &host.V6, true, &n.V6)
	}
	n.OurLL6 = LocalGateway6
	if n.V6.Gateway.IsLinkLocalUnicast() {
		n.OurLL6 = n.V6.Gateway
	}
	if !n.HasV4() {
		n.NoDHCP = true
	}
	if !n.HasV6() {
		n.NoNDP, n.NoDHCPv6 = true, true
	}

	resolveDNS(cfg, host.Resolvers, &n.V4, false)
	resolveDNS(cfg, host.Resolvers, &n.V6, true)

	switch {
	case cfg.NoSearch || cfg.NoDHCPSearch:
	case len(cfg.Search) > 0:
		n.Search = append([]string(nil), cfg.Search...)
	default:
		n.Search = append([]string(nil), host.Search...)
	}
	return n, nil
}

// pick returns the address of the wanted family in list, if any.
func pick(list []netip.Addr, v6 bool) netip.Addr {
	for _, a := range list {
		if a.Is6() == v6 {
			return a
		}
	}
	return netip.Addr{}
}

// resolveFamily fills f from cfg and the host's template interface h.
func resolveFamily(cfg *policy.Config, h *HostFamily, v6 bool, f *Family) {
	addr, plen := netip.Addr{}, -1
	for _, p := range cfg.Addresses {
		if p.Addr().Is6() == v6 {
			addr, plen = p.Addr(), p.Bits()
		}
	}
	if !v6 && plen < 0 && cfg.Netmask >= 0 {
		plen = cfg.Netmask // -n, with or without -a, as passt's prefix_len
	}
	gw := pick(cfg.Gateways, v6)
	template := h.Gateway.IsValid() && h.Addr.IsValid()

	switch {
	case template:
		if !addr.IsValid() {
			addr = h.Addr
			if plen < 0 {
				plen = h.PrefixLen
			}
		}
		if !gw.IsValid() {
			gw = h.Gateway
		}
	case !v6:
		if !addr.IsValid() {
			addr = LocalAddr4
		}
		if !gw.IsValid() {
			gw = LocalGateway4
		}
		if plen < 0 {
			plen = LocalPrefixLen4
		}
	default:
		if !gw.IsValid() {
			gw = LocalGateway6
		}
	}
	if plen < 0 {
		plen = defaultPrefixLen(addr)
	}
	f.Addr, f.PrefixLen, f.Gateway = addr, plen, gw
	f.HostAddr = h.Addr
	if !f.HostAddr.IsValid() {
		f.HostAddr = addr
	}
	f.Outbound = pick(cfg.Outbound, v6)
	f.OutboundIf = cfg.OutboundIf4
	if v6 {
		f.OutboundIf = cfg.OutboundIf6
	}
	f.MapGuest = pick(cfg.MapGuestAddr, v6)
	f.MapHostLo = pick(cfg.MapHostLoopback, v6)
	if !f.MapHostLo.IsValid() && !cfg.NoMapGW && !cfg.NoMapHostLoopback {
		f.MapHostLo = gw
	}
	f.DNSForward = pick(cfg.DNSForward, v6)
	f.DNSHost = pick(cfg.DNSHost, v6)
}

// defaultPrefixLen is passt's inany_default_prefix_len(): classful for
// IPv4, 64 for IPv6.
func defaultPrefixLen(a netip.Addr) int {
	if !a.IsValid() {
		return 0
	}
	if a.Is6() {
		return 64
	}
	b := a.As4()[0]
	switch {
	case b < 128:
		return 8
	case b < 192:
		return 16
	case b < 224:
		return 24
	}
	return 32
}

// resolveDNS fills f.DNS, f.DNSHost and possibly f.DNSForward, as passt's
// get_dns() and add_dns_resolv4/6().
func resolveDNS(cfg *policy.Config, resolvers []netip.Addr, f *Family, v6 bool) {
	if !f.Addr.IsValid() && !f.Gateway.IsValid() {
		return // family off
	}
	if cfg.NoDNS {
		f.DNSForward, f.DNSHost = netip.Addr{}, netip.Addr{}
		return
	}
	var dns []netip.Addr
	for _, a := range cfg.DNS {
		if a.Is6() == v6 && len(dns) < maxDNS {
			dns = append(dns, a)
		}
	}
	// The host's resolvers of this family, unless -D gave some of it
	// (passt's dns4_set, dns6_set).
	fromHost := len(dns) == 0
	for _, ns := range resolvers {
		ns = ns.Unmap()
		if ns.Is6() != v6 {
			continue
		}
		if !f.DNSHost.IsValid() {
			f.DNSHost = ns
		}
		if !fromHost {
			continue
		}
		if ns.IsLoopback() || (f.MapHostLo.IsValid() && ns == f.MapHostLo) {
			switch {
			case f.DNSForward.IsValid():
				ns = f.DNSForward
			case f.MapHostLo.IsValid():
				ns, f.DNSForward = f.MapHostLo, f.MapHostLo
			default:
				continue // unreachable from the guest
			}
		}
		if len(dns) < maxDNS && !contains(dns, ns) {
			dns = append(dns, ns)
		}
	}
	if !cfg.NoDHCPDNS && f.Addr.IsValid() {
		f.DNS = dns
	}
}

func contains(l []netip.Addr, a netip.Addr) bool {
	for _, x := range l {
		if x == a {
			return true
		}
	}
	return false
}

// ResolvConfPath is the file HostInfoFromKernel reads nameservers and the
// search list from; tests may change it.
var ResolvConfPath = "/etc/resolv.conf"

// ReadResolvConf reads "nameserver" and "search" lines, as passt's
// get_dns(): a "%zone" suffix on a nameserver is dropped; the last
// "search" or "domain" line wins, as in resolv.conf(5); unparsable lines
// are skipped.
func ReadResolvConf(r io.Reader) (resolvers []netip.Addr, search []string, err error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			v, _, _ := strings.Cut(f[1], "%")
			if a, err := netip.ParseAddr(v); err == nil {
				resolvers = append(resolvers, a.Unmap())
			}
		case "search", "domain":
			search = append([]string(nil), f[1:]...)
		}
	}
	if err := s.Err(); err != nil {
		return nil, nil, err
	}
	return resolvers, search, nil
}

// readResolvConfFile reads path; a missing file is no resolvers.
func readResolvConfFile(path string) ([]netip.Addr, []string, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer fh.Close()
	return ReadResolvConf(fh)
}
