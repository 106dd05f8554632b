// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

// Specification (RFC 8415 unless noted).
const (
	// HeaderSize is msg-type plus the 24-bit transaction-id (§8).
	HeaderSize = 4
	// OptionHeaderSize is option-code plus option-len (§21.1).
	OptionHeaderSize = 4
	// IANAMinSize is the fixed part of IA_NA data: IAID, T1, T2 (§21.4).
	IANAMinSize = 12
	// IAAddressMinSize is the fixed part of IAADDR data: address,
	// preferred and valid lifetimes (§21.6).
	IAAddressMinSize = 24
	// MaxDUIDSize bounds a DUID: 128 octets plus the 2-octet type (§11.1).
	MaxDUIDSize = 2 + 128

	// Infinity is the lifetime and timer value meaning "forever" (§7.7).
	Infinity = 0xffffffff

	// ServerPort and ClientPort are the UDP ports (§7.2).
	ServerPort = 547
	ClientPort = 546
)

// Implementation.
const (
	// MaxReplySize is the most Reply writes and the size the caller's out
	// buffer must have: the IPv6 minimum MTU (1280) less the IPv6 and UDP
	// headers, so that a reply never needs fragmentation on any link.
	MaxReplySize = 1280 - 40 - 8

	// maxIA bounds the IA_NA options answered; further ones are ignored.
	maxIA = 4
	// maxHints bounds the unsuitable addresses echoed with zero lifetimes
	// per IA_NA in replies to RENEW and REBIND.
	maxHints = 4
	// maxDNS bounds the resolvers listed in option 23.
	maxDNS = 16
	// maxSearchNames bounds the names in option 24; passt's MAXDNSRCH is 6.
	maxSearchNames = 32
)

// MessageType is the msg-type field (§7.3).
type MessageType uint8

// Message types (§7.3).
const (
	MsgSolicit            MessageType = 1
	MsgAdvertise          MessageType = 2
	MsgRequest            MessageType = 3
	MsgConfirm            MessageType = 4
	MsgRenew              MessageType = 5
	MsgRebind             MessageType = 6
	MsgReply              MessageType = 7
	MsgRelease            MessageType = 8
	MsgDecline            MessageType = 9
	MsgReconfigure        MessageType = 10
	MsgInformationRequest MessageType = 11
	MsgRelayForw          MessageType = 12
	MsgRelayRepl          MessageType = 13
)

// Option codes (§21, RFC 3646 for 23 and 24, RFC 4704 for 39).
const (
	OptClientID    = 1
	OptServerID    = 2
	OptIANA        = 3
	OptIATA        = 4
	OptIAAddr      = 5
	OptORO         = 6
	OptPreference  = 7
	OptElapsedTime = 8
	OptStatusCode  = 13
	OptRapidCommit = 14
	OptDNSServers  = 23
	OptDomainList  = 24
	OptIAPD        = 25
	OptClientFQDN  = 39
)

// StatusCode is the value of a Status Code option (§21.13).
type StatusCode uint16

// Status codes (§21.13).
const (
	StatusSuccess      StatusCode = 0
	StatusUnspecFail   StatusCode = 1
	StatusNoAddrsAvail StatusCode = 2
	StatusNoBinding    StatusCode = 3
	StatusNotOnLink    StatusCode = 4
	StatusUseMulticast StatusCode = 5
)

// DUID types and the hardware type of DUID-LL (§11.4, RFC 826).
const (
	duidLL        = 3
	hwEthernet    = 1
	duidLLSize    = 2 + 2 + 6
	preferenceMax = 255 // §21.8: the client stops collecting Advertises
)
