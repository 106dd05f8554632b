// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// copyPasses bounds the rounds in which copied routes are retried: a
// route through a gateway can need another copied route first, as in
// passt's nl_route_dup().
const copyPasses = 4

// Copied is what --config-net takes over from the host's template
// interface of one family besides the guest's address and default route
// (which ConfigureNet always sets), as pasta's nl_addr_dup() and
// nl_route_dup(): its other addresses and its other routes of the main
// table.
type Copied struct {
	Addrs  []netip.Prefix
	Routes []netlink.Route // LinkIndex is the host's; ConfigureNet rewrites it
}

// ReadCopied reads, in the calling thread's namespace (the host's), the
// addresses (if addrs) and the routes (if routes) of interface ifindex of
// one family (v6) that --config-net copies: addresses of global or site
// scope, and unicast routes of the main table through that interface but
// the default one and those the kernel makes for an address (proto
// kernel), which the namespace's kernel makes for the copied addresses.
func ReadCopied(ifindex int, v6, addrs, routes bool) (Copied, error) {
	var c Copied
	if ifindex <= 0 || (!addrs && !routes) {
		return c, nil
	}
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	link := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	if addrs {
		list, err := netlink.AddrList(link, family)
		if err != nil {
			return c, fmt.Errorf("addresses of interface %d: %w", ifindex, err)
		}
		for _, a := range list {
			if a.Scope == unix.RT_SCOPE_LINK || a.Scope == unix.RT_SCOPE_HOST || a.IPNet == nil {
				continue
			}
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			plen, _ := a.Mask.Size()
			c.Addrs = append(c.Addrs, netip.PrefixFrom(ip.Unmap(), plen))
		}
	}
	if routes {
		list, err := netlink.RouteListFiltered(family,
			&netlink.Route{LinkIndex: ifindex, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
		if err != nil {
			return c, fmt.Errorf("routes of interface %d: %w", ifindex, err)
		}
		for _, r := range list {
			if copiedRoute(r) {
				c.Routes = append(c.Routes, r)
			}
		}
	}
	return c, nil
}

// copiedRoute reports whether --config-net copies route r.
func copiedRoute(r netlink.Route) bool {
	if r.Type != unix.RTN_UNICAST || r.Protocol == unix.RTPROT_KERNEL || len(r.MultiPath) > 0 {
		return false
	}
	if r.Dst == nil {
		return false // the default route: ConfigureNet's own
	}
	if ones, _ := r.Dst.Mask.Size(); ones == 0 {
		return false
	}
	return !r.Dst.IP.IsMulticast() && !r.Dst.IP.IsLinkLocalUnicast()
}

// copyAddrs adds the copied addresses but guest (already there) to link.
func copyAddrs(h *netlink.Handle, link netlink.Link, addrs []netip.Prefix, guest netip.Addr) error {
	for _, p := range addrs {
		if p.Addr() == guest {
			continue
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrReplace(link, a); err != nil {
			return fmt.Errorf("copy address %s: %w", p, err)
		}
	}
	return nil
}

// copyRoutes adds the copied routes through link, retrying those the
// kernel refuses (a gateway not yet reachable) for up to copyPasses
// rounds. It returns what it could not add, one line each.
func copyRoutes(h *netlink.Handle, link netlink.Link, routes []netlink.Route) []string {
	pending := make([]netlink.Route, 0, len(routes))
	for _, r := range routes {
		r.LinkIndex, r.ILinkIndex = link.Attrs().Index, 0
		pending = append(pending, r)
	}
	var errs []error
	for pass := 0; pass < copyPasses && len(pending) > 0; pass++ {
		errs = errs[:0]
		left := pending[:0]
		for _, r := range pending {
			if err := h.RouteReplace(&r); err != nil {
				left = append(left, r)
				errs = append(errs, err)
			}
		}
		pending = left
	}
	var failed []string
	for i, r := range pending {
		failed = append(failed, fmt.Sprintf("route %s not copied: %v", r.Dst, errs[i]))
	}
	return failed
}
