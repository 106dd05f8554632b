// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

// Specification: BOOTP/DHCP message layout (RFC 2131 §2, RFC 951).
const (
	// HeaderSize is the fixed BOOTP header up to, not including, the
	// magic cookie: op .. file.
	HeaderSize = 236
	// MinSize is the smallest DHCP message: the fixed header plus the
	// magic cookie (RFC 2131 §3).
	MinSize = HeaderSize + 4
	// MinBOOTPSize is the smallest BOOTP message relays and old clients
	// accept (RFC 1542 §2.1): replies are zero-padded up to it.
	MinBOOTPSize = 300
	// DefaultMessageSize is the largest DHCP message a client must accept
	// without asking for more with option 57: a 576-byte IP datagram minus
	// the 20-byte IPv4 and 8-byte UDP headers (RFC 2131 §2).
	DefaultMessageSize = 576 - 20 - 8

	// MagicCookie opens the options field (RFC 2131 §3, RFC 1497).
	MagicCookie = 0x63825363

	// MaxHardwareLen is the size of the chaddr field; hlen beyond it is
	// malformed.
	MaxHardwareLen = 16

	// BootRequest and BootReply are the values of the op field.
	BootRequest = 1
	BootReply   = 2

	// FlagBroadcast is the B bit in the flags field (RFC 2131 §2).
	FlagBroadcast = 0x8000
)

// Implementation.
const (
	// MaxReplySize is the most Reply ever writes, and the size the caller's
	// out buffer must have: a full 1500-byte Ethernet MTU less the IPv4 and
	// UDP headers. Replies are normally limited to DefaultMessageSize (548)
	// bytes; only a client that announces a larger Maximum DHCP Message Size
	// (option 57) gets more, up to this bound and up to n.MTU.
	MaxReplySize = 1500 - 20 - 8

	// maxDNS bounds the resolvers listed in option 6, as passt's MAXNS
	// does in spirit; option 6 cannot hold more than 63 anyway.
	maxDNS = 16
	// maxSearchWire bounds the wire-encoded search list (option 119, split
	// into several options as RFC 3396 allows when longer than 255).
	maxSearchWire = 1024
)

// Message types, the value of option 53 (RFC 2132 §9.6).
const (
	Discover = 1
	Offer    = 2
	Request  = 3
	Decline  = 4
	Ack      = 5
	Nak      = 6
	Release  = 7
	Inform   = 8
)

// Option codes (RFC 2132 unless noted).
const (
	OptPad                     = 0
	OptSubnetMask              = 1
	OptRouter                  = 3
	OptDNS                     = 6
	OptHostname                = 12
	OptDomainName              = 15
	OptInterfaceMTU            = 26
	OptRequestedAddr           = 50
	OptLeaseTime               = 51
	OptOverload                = 52
	OptMessageType             = 53
	OptServerID                = 54
	OptParamRequestList        = 55
	OptMessage                 = 56
	OptMaxMessageSize          = 57
	OptClientID                = 61
	OptRapidCommit             = 80  // RFC 4039
	OptClientFQDN              = 81  // RFC 4702
	OptDomainSearch            = 119 // RFC 3397
	OptClasslessRoutes         = 121 // RFC 3442
	OptEnd                     = 255
	infiniteLease       uint32 = 0xffffffff
)
