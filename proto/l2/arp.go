// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import (
	"encoding/binary"
	"net/netip"
)

// ARP operations (RFC 826).
const (
	ARPRequest = 1
	ARPReply   = 2
)

const (
	arpHTypeOffset = 0
	arpPTypeOffset = 2
	arpHLenOffset  = 4
	arpPLenOffset  = 5
	arpOpOffset    = 6
	arpSHAOffset   = 8
	arpSPAOffset   = 14
	arpTHAOffset   = 18
	arpTPAOffset   = 24

	arpHTypeEthernet = 1
)

// ARP is an Ethernet/IPv4 ARP packet (RFC 826) at the start of a byte
// slice. Accessors other than IsValid need len(b) >= ARPSize; IsValid and
// Frame.Parse guarantee it.
type ARP []byte

// IsValid reports whether b is an ARP packet for Ethernet hardware and IPv4
// protocol addresses.
func (b ARP) IsValid() bool {
	return len(b) >= ARPSize &&
		binary.BigEndian.Uint16(b[arpHTypeOffset:]) == arpHTypeEthernet &&
		binary.BigEndian.Uint16(b[arpPTypeOffset:]) == EtherTypeIPv4 &&
		b[arpHLenOffset] == 6 && b[arpPLenOffset] == 4
}

// Op returns the operation (ARPRequest, ARPReply).
func (b ARP) Op() uint16 { return binary.BigEndian.Uint16(b[arpOpOffset:]) }

// SenderHW returns the sender hardware address.
func (b ARP) SenderHW() [6]byte { return [6]byte(b[arpSHAOffset : arpSHAOffset+6]) }

// SenderIP returns the sender protocol address.
func (b ARP) SenderIP() netip.Addr { return netip.AddrFrom4([4]byte(b[arpSPAOffset : arpSPAOffset+4])) }

// TargetHW returns the target hardware address.
func (b ARP) TargetHW() [6]byte { return [6]byte(b[arpTHAOffset : arpTHAOffset+6]) }

// TargetIP returns the target protocol address.
func (b ARP) TargetIP() netip.Addr { return netip.AddrFrom4([4]byte(b[arpTPAOffset : arpTPAOffset+4])) }

// Encode writes a whole Ethernet/IPv4 ARP packet. spa and tpa must be IPv4.
func (b ARP) Encode(op uint16, sha [6]byte, spa netip.Addr, tha [6]byte, tpa netip.Addr) {
	_ = b[ARPSize-1]
	binary.BigEndian.PutUint16(b[arpHTypeOffset:], arpHTypeEthernet)
	binary.BigEndian.PutUint16(b[arpPTypeOffset:], EtherTypeIPv4)
	b[arpHLenOffset] = 6
	b[arpPLenOffset] = 4
	binary.BigEndian.PutUint16(b[arpOpOffset:], op)
	copy(b[arpSHAOffset:], sha[:])
	s := spa.As4()
	copy(b[arpSPAOffset:], s[:])
	copy(b[arpTHAOffset:], tha[:])
	t := tpa.As4()
	copy(b[arpTPAOffset:], t[:])
}
