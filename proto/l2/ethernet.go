// SPDX-License-Identifier: GPL-2.0-or-later

package l2

import "encoding/binary"

const (
	ethDstOffset  = 0
	ethSrcOffset  = 6
	ethTypeOffset = 12
)

// Ethernet is an Ethernet II header at the start of a byte slice. Accessors
// need len(b) >= EthernetSize; Frame.Parse guarantees it.
type Ethernet []byte

// Destination returns the destination MAC address.
func (b Ethernet) Destination() [6]byte { return [6]byte(b[ethDstOffset : ethDstOffset+6]) }

// Source returns the source MAC address.
func (b Ethernet) Source() [6]byte { return [6]byte(b[ethSrcOffset : ethSrcOffset+6]) }

// Type returns the EtherType (the outer one: a VLAN TPID if tagged).
func (b Ethernet) Type() uint16 { return binary.BigEndian.Uint16(b[ethTypeOffset:]) }

// SetDestination sets the destination MAC address.
func (b Ethernet) SetDestination(a [6]byte) { copy(b[ethDstOffset:], a[:]) }

// SetSource sets the source MAC address.
func (b Ethernet) SetSource(a [6]byte) { copy(b[ethSrcOffset:], a[:]) }

// SetType sets the EtherType.
func (b Ethernet) SetType(t uint16) { binary.BigEndian.PutUint16(b[ethTypeOffset:], t) }

// Encode writes a whole untagged header.
func (b Ethernet) Encode(dst, src [6]byte, etherType uint16) {
	_ = b[EthernetSize-1]
	b.SetDestination(dst)
	b.SetSource(src)
	b.SetType(etherType)
}

// IsMulticastMAC reports whether a is a group address (broadcast included).
func IsMulticastMAC(a [6]byte) bool { return a[0]&1 != 0 }
