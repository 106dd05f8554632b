// SPDX-License-Identifier: GPL-2.0-or-later

package linksvc

import (
	"gopasst/flow"
	"gopasst/guest"
	"gopasst/proto/arp"
	"gopasst/proto/dhcp"
	"gopasst/proto/dhcpv6"
	"gopasst/proto/ndp"
)

// New returns the link services n asks for, in the order ARP, NDP, DHCP,
// DHCPv6, each sending its replies to tap. Add each to the engine.
func New(n *guest.Net, tap flow.Tap) ([]flow.Handler, error) {
	var hs []flow.Handler
	add := func(h flow.Handler, err error) error {
		if err == nil {
			hs = append(hs, h)
		}
		return err
	}
	if err := add(arp.New(arp.Config{Net: n, Tap: tap})); err != nil {
		return nil, err
	}
	if !n.NoNDP {
		if err := add(ndp.New(ndp.Config{Net: n, Tap: tap})); err != nil {
			return nil, err
		}
	}
	if !n.NoDHCP {
		if err := add(dhcp.New(dhcp.Config{Net: n, Tap: tap})); err != nil {
			return nil, err
		}
	}
	if !n.NoDHCPv6 {
		if err := add(dhcpv6.New(dhcpv6.Config{Net: n, Tap: tap})); err != nil {
			return nil, err
		}
	}
	return hs, nil
}
