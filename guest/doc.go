// SPDX-License-Identifier: GPL-2.0-or-later

// Package guest describes the network as the guest sees it: its addresses,
// its gateway, the MAC addresses on the link, the resolvers and search list,
// the MTU, and the addresses that gopasst maps to the host (the mapping
// itself, from these addresses, is fwd.HostDestination and
// fwd.GuestSource).
//
// # Theory of operation
//
// Configuration flows conf → policy → guest: the command line (package
// conf) and the TOML file (policy.Load) give one policy.Config, the typed
// configuration; this package is its run-time view. Resolve turns the
// Config, together with what the host's routing table says
// (HostInfoFromKernel, over netlink), into one Net value. The
// engine and every protocol handler read that Net; only the engine writes
// the fields marked "learned" (the guest's MAC and link-local address), from
// the frames the guest sends. Net is not safe for concurrent use: it belongs
// to the event-loop goroutine, like all of proto/.
//
// As in pasta, by default the guest gets the host's own address, prefix and
// default gateway on the outbound interface, so no NAT is visible; with no
// default route, "local mode" hands out 169.254.2.1/16 via 169.254.2.2 and
// fe80::1 as the IPv6 router.
package guest
