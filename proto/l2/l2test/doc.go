// SPDX-License-Identifier: GPL-2.0-or-later

// Package l2test builds and checks Ethernet frames in tests, after
// wireguard-go's tuntest and gVisor's checker package.
//
// # Theory of operation
//
// Builders (TCP4, UDP6, Echo4, ARPRequest, RouterSolicit, ...) return a
// fresh frame, as the guest would send it: from GuestMAC to OurMAC, valid
// checksums, TTL 64, unless functional options (WithTTL, WithMSS,
// WithVLAN, ...) say otherwise. They allocate and are for tests only.
//
// Checkers parse a frame with l2.Frame.Parse, verify the IP and transport
// checksums, and run the given checks, reporting each failure with
// t.Errorf:
//
//	l2test.IPv4(t, frame, l2test.DstAddr(a), l2test.TCP(
//		l2test.DstPort(80), l2test.TCPFlags(l2test.SYN|l2test.ACK)))
package l2test
