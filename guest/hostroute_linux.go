// SPDX-License-Identifier: GPL-2.0-or-later

package guest

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"gopasst/policy"
)

// HostInfoFromKernel reads the host's template interfaces from the
// kernel's main routing table over netlink, as passt's nl_get_ext_if(),
// nl_route_get_def() and nl_addr_get(): per family, the interface of the
// default route with the lowest metric (or ifname, if not ""), its
// gateway, address, prefix length, IPv6 link-local address and MTU. It
// also reads ResolvConfPath. A family without a default route is left
// zero. It needs no privileges.
func HostInfoFromKernel(ifname string) (HostInfo, error) {
	return hostInfo(ifname, ifname)
}

// HostInfoForConfig is HostInfoFromKernel with the template interfaces
// cfg names, as passt's conf(): -i for both families, else
// --outbound-if4 for IPv4 and --outbound-if6 for IPv6, else the default
// routes'. An --outbound-if4/6 interface that does not exist or has no
// default route of its family is an error ("external interface not
// usable", as passt), unless that family is off (-4, -6).
func HostInfoForConfig(cfg *policy.Config) (HostInfo, error) {
	if4, if6 := cfg.Interface, cfg.Interface
	if if4 == "" {
		if4 = cfg.OutboundIf4
	}
	if if6 == "" {
		if6 = cfg.OutboundIf6
	}
	h, err := hostInfo(if4, if6)
	if err != nil && cfg.Interface == "" && (cfg.OutboundIf4 != "" || cfg.OutboundIf6 != "") {
		return h, fmt.Errorf("external interface not usable: %w", err)
	}
	if err != nil {
		return h, err
	}
	for _, f := range []struct {
		opt, name string
		off       bool
		fam       *HostFamily
	}{
		{"--outbound-if4", cfg.OutboundIf4, cfg.IPv6Only, &h.V4},
		{"--outbound-if6", cfg.OutboundIf6, cfg.IPv4Only, &h.V6},
	} {
		if f.name != "" && !f.off && cfg.Interface == "" && f.fam.Ifname == "" {
			return h, fmt.Errorf("external interface not usable: %s %s has no default route", f.opt, f.name)
		}
	}
	return h, nil
}

// hostInfo reads the template interfaces: if4 (IPv4) and if6 (IPv6), or
// for "" the one with the default route.
func hostInfo(if4, if6 string) (HostInfo, error) {
	var h HostInfo
	link := func(name string) (netlink.Link, error) {
		if name == "" {
			return nil, nil
		}
		l, err := netlink.LinkByName(name)
		if err != nil {
			return nil, fmt.Errorf("interface %s: %w", name, err)
		}
		return l, nil
	}
	l4, err := link(if4)
	if err != nil {
		return h, err
	}
	l6, err := link(if6)
	if err != nil {
		return h, err
	}
	if h.V4, err = hostFamily(l4, unix.AF_INET); err != nil {
		return h, err
	}
	if h.V6, err = hostFamily(l6, unix.AF_INET6); err != nil {
		return h, err
	}
	if h.Resolvers, h.Search, err = readResolvConfFile(ResolvConfPath); err != nil {
		return h, err
	}
	return h, nil
}

// hostFamily finds the default route of one family, optionally on link.
func hostFamily(link netlink.Link, family int) (HostFamily, error) {
	var f HostFamily
	routes, err := netlink.RouteList(link, family)
	if err != nil {
		return f, fmt.Errorf("listing routes: %w", err)
	}
	best := -1
	var gw net.IP
	var ifindex int
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		if r.Type != unix.RTN_UNICAST || (r.Table != 0 && r.Table != unix.RT_TABLE_MAIN) {
			continue
		}
		g, idx := r.Gw, r.LinkIndex
		if g == nil && len(r.MultiPath) > 0 {
			g, idx = r.MultiPath[0].Gw, r.MultiPath[0].LinkIndex
		}
		if g == nil || (link != nil && idx != link.Attrs().Index) {
			continue
		}
		if best < 0 || r.Priority < best {
			best, gw, ifindex = r.Priority, g, idx
		}
	}
	if best < 0 {
		return f, nil
	}
	l := link
	if l == nil {
		if l, err = netlink.LinkByIndex(ifindex); err != nil {
			return f, fmt.Errorf("interface %d: %w", ifindex, err)
		}
	}
	f.Ifname, f.Ifindex, f.MTU = l.Attrs().Name, l.Attrs().Index, l.Attrs().MTU
	f.Gateway, _ = netip.AddrFromSlice(gw)
	f.Gateway = f.Gateway.Unmap()

	addrs, err := netlink.AddrList(l, family)
	if err != nil {
		return f, fmt.Errorf("listing addresses of %s: %w", f.Ifname, err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := a.Mask.Size()
		switch {
		case ip.IsLinkLocalUnicast() && family == unix.AF_INET6:
			if !f.LinkLocal.IsValid() {
				f.LinkLocal = ip
			}
		case a.Flags&(unix.IFA_F_SECONDARY|unix.IFA_F_TENTATIVE|unix.IFA_F_DEPRECATED) != 0:
		case a.Scope != unix.RT_SCOPE_UNIVERSE:
		case !f.Addr.IsValid() || (family == unix.AF_INET6 && ones > f.PrefixLen):
			// IPv6: prefer the longest prefix, as nl_addr_get().
			f.Addr, f.PrefixLen = ip, ones
		}
	}
	return f, nil
}
