// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"gopasst/guest"
)

// ConfigureNet applies n to the tap ifname in w's namespace when configNet
// is true (--config-net): for each enabled family, the guest's address with
// its prefix length and a default route through the gateway, and what
// copied holds for it (index 0 IPv4, 1 IPv6: the host's other addresses
// and routes, see ReadCopied). IPv6 addresses are added with IFA_F_NODAD,
// as pasta does, so that they are usable at once. Routes the kernel
// refuses are returned as warnings, one line each. Without configNet it
// does nothing: OpenTap already set the link up, and the guest configures
// itself by DHCP, DHCPv6 and SLAAC from gopasst. Mirrors pasta_ns_conf()
// in passt pasta.c.
func ConfigureNet(w *Worker, ifname string, n *guest.Net, configNet bool, copied [2]Copied) (warnings []string, err error) {
	if !configNet || n == nil {
		return nil, nil
	}
	err = w.Do(func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket in namespace: %w", err)
		}
		defer h.Close()
		link, err := h.LinkByName(ifname)
		if err != nil {
			return fmt.Errorf("find link %s: %w", ifname, err)
		}
		for i, f := range []*guest.Family{&n.V4, &n.V6} {
			if !f.Addr.IsValid() {
				continue
			}
			if err := configureFamily(h, link, f); err != nil {
				return fmt.Errorf("configure %s: %w", ifname, err)
			}
			if err := copyAddrs(h, link, copied[i].Addrs, f.Addr); err != nil {
				return fmt.Errorf("configure %s: %w", ifname, err)
			}
			warnings = append(warnings, copyRoutes(h, link, copied[i].Routes)...)
		}
		return nil
	})
	return warnings, err
}

func configureFamily(h *netlink.Handle, link netlink.Link, f *guest.Family) error {
	addr, err := addrFor(f)
	if err != nil {
		return err
	}
	if err := h.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("add address %s: %w", addr.IPNet, err)
	}
	if !f.Gateway.IsValid() {
		return nil
	}
	r := defaultRoute(link.Attrs().Index, f)
	if err := h.RouteReplace(r); err != nil {
		return fmt.Errorf("add default route via %s: %w", f.Gateway, err)
	}
	return nil
}

// addrFor returns the netlink address for the family's address and prefix.
func addrFor(f *guest.Family) (*netlink.Addr, error) {
	bits := f.Addr.BitLen()
	plen := f.PrefixLen
	if plen <= 0 || plen > bits {
		plen = bits
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: f.Addr.AsSlice(), Mask: net.CIDRMask(plen, bits)}}
	if f.Addr.Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a, nil
}

// defaultRoute returns the default route through f.Gateway on link index
// ifindex. A gateway outside the guest's subnet (for example a /32 host
// address) is marked on-link, as the kernel would otherwise refuse it.
func defaultRoute(ifindex int, f *guest.Family) *netlink.Route {
	bits := f.Addr.BitLen()
	r := &netlink.Route{
		LinkIndex: ifindex,
		Dst:       &net.IPNet{IP: make(net.IP, bits/8), Mask: net.CIDRMask(0, bits)},
		Gw:        f.Gateway.AsSlice(),
	}
	if f.Addr.Is4() {
		r.Family = unix.AF_INET
		r.Dst.IP = net.IPv4zero.To4()
	} else {
		r.Family = unix.AF_INET6
	}
	if !gatewayOnLink(f) {
		r.Flags = int(netlink.FLAG_ONLINK)
	}
	return r
}

// gatewayOnLink reports whether the kernel will find f.Gateway on-link by
// the prefix route of f.Addr (IPv6 link-local gateways always are).
func gatewayOnLink(f *guest.Family) bool {
	if f.Gateway.Is6() && f.Gateway.IsLinkLocalUnicast() {
		return true
	}
	plen := f.PrefixLen
	if plen <= 0 || plen > f.Addr.BitLen() {
		return false
	}
	p, err := f.Addr.Prefix(plen)
	if err != nil {
		return false
	}
	return p.Contains(f.Gateway) && f.Gateway != f.Addr
}
