// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "errors"

// Sentinel errors returned by Frame.Parse, one per drop reason, so the
// caller can count drops without formatting anything. Compare with ==.
var (
	ErrTruncated       = errors.New("l2: header truncated")
	ErrVLANDepth       = errors.New("l2: too many VLAN tags")
	ErrEtherType       = errors.New("l2: unsupported EtherType")
	ErrARP             = errors.New("l2: not an Ethernet/IPv4 ARP packet")
	ErrIPVersion       = errors.New("l2: IP version does not match EtherType")
	ErrBadIHL          = errors.New("l2: IPv4 header length below 20")
	ErrIPv4Length      = errors.New("l2: IPv4 total length below header length or past frame")
	ErrIPv4Checksum    = errors.New("l2: IPv4 header checksum mismatch")
	ErrIPv6Length      = errors.New("l2: IPv6 payload length past frame")
	ErrExtHeaderLength = errors.New("l2: IPv6 extension header overruns packet")
	ErrExtHeaderChain  = errors.New("l2: IPv6 extension header chain too long or repeated")
	ErrExtHeaderOrder  = errors.New("l2: IPv6 hop-by-hop header not first")
	ErrTCPDataOffset   = errors.New("l2: TCP data offset below 20 or past segment")
	ErrTCPOptions      = errors.New("l2: TCP options malformed")
	ErrUDPLength       = errors.New("l2: UDP length below 8 or past packet")
)

// Errors lists every sentinel error Frame.Parse returns, for counters
// indexed by reason.
var Errors = [...]error{
	ErrTruncated, ErrVLANDepth, ErrEtherType, ErrARP, ErrIPVersion,
	ErrBadIHL, ErrIPv4Length, ErrIPv4Checksum, ErrIPv6Length,
	ErrExtHeaderLength, ErrExtHeaderChain, ErrExtHeaderOrder,
	ErrTCPDataOffset, ErrTCPOptions, ErrUDPLength,
}
