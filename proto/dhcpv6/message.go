// SPDX-License-Identifier: GPL-2.0-or-later

package dhcpv6

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

var messageTypeNames = [...]string{
	MsgSolicit: "SOLICIT", MsgAdvertise: "ADVERTISE", MsgRequest: "REQUEST",
	MsgConfirm: "CONFIRM", MsgRenew: "RENEW", MsgRebind: "REBIND",
	MsgReply: "REPLY", MsgRelease: "RELEASE", MsgDecline: "DECLINE",
	MsgReconfigure: "RECONFIGURE", MsgInformationRequest: "INFORMATION-REQUEST",
	MsgRelayForw: "RELAY-FORW", MsgRelayRepl: "RELAY-REPL",
}

// String returns the RFC 8415 name of t.
func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) && messageTypeNames[t] != "" {
		return messageTypeNames[t]
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// Message is a DHCPv6 client/server message at the start of a byte slice,
// the payload of a UDP datagram to port 547 or 546 (RFC 8415 §8). Check
// Valid before using the accessors on untrusted input.
type Message []byte

// Valid reports whether b holds at least the message header.
func (b Message) Valid() bool { return len(b) >= HeaderSize }

// Type returns msg-type.
func (b Message) Type() MessageType { return MessageType(b[0]) }

// TransactionID returns the 24-bit transaction-id.
func (b Message) TransactionID() uint32 {
	return uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Options returns the options after the header.
func (b Message) Options() Options { return Options(b[HeaderSize:]) }

// SetType sets msg-type.
func (b Message) SetType(t MessageType) { b[0] = byte(t) }

// SetTransactionID sets the transaction-id; the top 8 bits of id are
// ignored.
func (b Message) SetTransactionID(id uint32) {
	b[1], b[2], b[3] = byte(id>>16), byte(id>>8), byte(id)
}

// IANA is the data of an IA_NA option (RFC 8415 §21.4): IAID, T1, T2 and
// the IA_NA options. Check Valid first.
type IANA []byte

// Valid reports whether b holds the fixed fields.
func (b IANA) Valid() bool { return len(b) >= IANAMinSize }

// IAID returns the identity association identifier chosen by the client.
func (b IANA) IAID() uint32 { return binary.BigEndian.Uint32(b[0:]) }

// T1 returns the time, in seconds, at which the client contacts the server
// that assigned the addresses to extend their lifetimes.
func (b IANA) T1() uint32 { return binary.BigEndian.Uint32(b[4:]) }

// T2 returns the time, in seconds, at which the client contacts any server.
func (b IANA) T2() uint32 { return binary.BigEndian.Uint32(b[8:]) }

// Options returns the options encapsulated in the IA_NA.
func (b IANA) Options() Options { return Options(b[IANAMinSize:]) }

// IAAddress is the data of an IA Address option (RFC 8415 §21.6). Check
// Valid first.
type IAAddress []byte

// Valid reports whether b holds the fixed fields.
func (b IAAddress) Valid() bool { return len(b) >= IAAddressMinSize }

// Addr returns the IPv6 address.
func (b IAAddress) Addr() netip.Addr { return netip.AddrFrom16([16]byte(b[0:16])) }

// PreferredLifetime returns the preferred lifetime in seconds.
func (b IAAddress) PreferredLifetime() uint32 { return binary.BigEndian.Uint32(b[16:]) }

// ValidLifetime returns the valid lifetime in seconds.
func (b IAAddress) ValidLifetime() uint32 { return binary.BigEndian.Uint32(b[20:]) }

// Options returns the options encapsulated in the IA Address option.
func (b IAAddress) Options() Options { return Options(b[IAAddressMinSize:]) }
