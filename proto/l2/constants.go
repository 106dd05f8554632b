// SPDX-License-Identifier: GPL-2.0-or-later

package l2

// Specification: header sizes in bytes.
const (
	EthernetSize      = 14 // destination, source, EtherType (IEEE 802.3)
	VLANTagSize       = 4  // TPID is the EtherType slot; TCI and inner type follow (IEEE 802.1Q)
	IPv4MinSize       = 20 // IHL = 5 (RFC 791)
	IPv4MaxSize       = 60 // IHL = 15
	IPv6MinSize       = 40 // fixed header (RFC 8200)
	TCPMinSize        = 20 // data offset = 5 (RFC 9293)
	TCPMaxSize        = 60 // data offset = 15
	UDPSize           = 8  // RFC 768
	ICMPv4MinSize     = 8  // type, code, checksum, rest of header (RFC 792)
	ICMPv6MinSize     = 4  // type, code, checksum (RFC 4443)
	ICMPv6EchoMinSize = 8  // plus identifier and sequence number
	ARPSize           = 28 // Ethernet/IPv4 ARP (RFC 826)
)

// Specification: EtherTypes.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeIPv6 = 0x86dd
	EtherTypeVLAN = 0x8100 // IEEE 802.1Q customer tag
	EtherTypeQinQ = 0x88a8 // IEEE 802.1ad service tag
)

// Specification: IP protocol numbers and IPv6 extension header types.
const (
	ProtoHopByHop = 0
	ProtoICMP     = 1
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoESP      = 50
	ProtoAH       = 51
	ProtoICMPv6   = 58
	ProtoNoNext   = 59
	ProtoDestOpts = 60
)

// Implementation limits.
const (
	// MaxVLANTags is how many 802.1Q/802.1ad tags Frame.Parse skips.
	MaxVLANTags = 2
	// MaxIPv6ExtHeaders bounds the extension header walk. RFC 8200 allows
	// each header once (destination options twice); 8 leaves room for
	// every legitimate chain.
	MaxIPv6ExtHeaders = 8
)

// Ethernet addresses.
var (
	BroadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)
