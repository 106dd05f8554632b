// SPDX-License-Identifier: GPL-2.0-or-later

package dhcp

import "encoding/binary"

// Field offsets in the BOOTP header (RFC 2131 §2, figure 1).
const (
	opOffset     = 0
	htypeOffset  = 1
	hlenOffset   = 2
	hopsOffset   = 3
	xidOffset    = 4
	secsOffset   = 8
	flagsOffset  = 10
	ciaddrOffset = 12
	yiaddrOffset = 16
	siaddrOffset = 20
	giaddrOffset = 24
	chaddrOffset = 28
	snameOffset  = 44
	fileOffset   = 108
	cookieOffset = 236
	optOffset    = 240

	snameSize = 64
	fileSize  = 128
)

// Message is a BOOTP/DHCP message at the start of a byte slice, the payload
// of a UDP datagram to port 67 or 68 (RFC 2131 §2). Accessors read and write
// in place; call Valid before any of them on untrusted input.
type Message []byte

// Valid reports whether b holds the fixed header and the magic cookie, and
// whether hlen fits chaddr. Only then are the accessors safe.
func (b Message) Valid() bool {
	return len(b) >= MinSize && b.Cookie() == MagicCookie &&
		b.HardwareLen() <= MaxHardwareLen
}

// Op returns the message op code: BootRequest or BootReply.
func (b Message) Op() uint8 { return b[opOffset] }

// HardwareType returns htype, the ARP hardware type (1: Ethernet).
func (b Message) HardwareType() uint8 { return b[htypeOffset] }

// HardwareLen returns hlen, the length of the address in chaddr.
func (b Message) HardwareLen() uint8 { return b[hlenOffset] }

// Hops returns the relay hop count.
func (b Message) Hops() uint8 { return b[hopsOffset] }

// TransactionID returns xid, chosen by the client.
func (b Message) TransactionID() uint32 { return binary.BigEndian.Uint32(b[xidOffset:]) }

// Secs returns the seconds elapsed since the client began acquisition.
func (b Message) Secs() uint16 { return binary.BigEndian.Uint16(b[secsOffset:]) }

// Flags returns the flags field (FlagBroadcast).
func (b Message) Flags() uint16 { return binary.BigEndian.Uint16(b[flagsOffset:]) }

// ClientAddr returns ciaddr, the client's address when it already has one.
func (b Message) ClientAddr() [4]byte { return [4]byte(b[ciaddrOffset:]) }

// YourAddr returns yiaddr, the address the server assigns.
func (b Message) YourAddr() [4]byte { return [4]byte(b[yiaddrOffset:]) }

// ServerAddr returns siaddr, the next server in bootstrap.
func (b Message) ServerAddr() [4]byte { return [4]byte(b[siaddrOffset:]) }

// GatewayAddr returns giaddr, the relay agent's address.
func (b Message) GatewayAddr() [4]byte { return [4]byte(b[giaddrOffset:]) }

// ClientHardwareAddr returns all 16 bytes of chaddr; the first HardwareLen
// of them are the address.
func (b Message) ClientHardwareAddr() []byte {
	return b[chaddrOffset : chaddrOffset+MaxHardwareLen]
}

// ServerName returns the sname field (64 bytes), which carries options
// when option 52 says so.
func (b Message) ServerName() []byte { return b[snameOffset : snameOffset+snameSize] }

// File returns the file field (128 bytes), which carries options when
// option 52 says so.
func (b Message) File() []byte { return b[fileOffset : fileOffset+fileSize] }

// Cookie returns the magic cookie.
func (b Message) Cookie() uint32 { return binary.BigEndian.Uint32(b[cookieOffset:]) }

// Options returns the options field, after the magic cookie.
func (b Message) Options() Options { return Options(b[optOffset:]) }

// SetOp sets the op field.
func (b Message) SetOp(v uint8) { b[opOffset] = v }

// SetHardwareType sets htype.
func (b Message) SetHardwareType(v uint8) { b[htypeOffset] = v }

// SetHardwareLen sets hlen.
func (b Message) SetHardwareLen(v uint8) { b[hlenOffset] = v }

// SetHops sets the hop count.
func (b Message) SetHops(v uint8) { b[hopsOffset] = v }

// SetTransactionID sets xid.
func (b Message) SetTransactionID(v uint32) { binary.BigEndian.PutUint32(b[xidOffset:], v) }

// SetSecs sets secs.
func (b Message) SetSecs(v uint16) { binary.BigEndian.PutUint16(b[secsOffset:], v) }

// SetFlags sets the flags field.
func (b Message) SetFlags(v uint16) { binary.BigEndian.PutUint16(b[flagsOffset:], v) }

// SetClientAddr sets ciaddr.
func (b Message) SetClientAddr(a [4]byte) { copy(b[ciaddrOffset:], a[:]) }

// SetYourAddr sets yiaddr.
func (b Message) SetYourAddr(a [4]byte) { copy(b[yiaddrOffset:], a[:]) }

// SetServerAddr sets siaddr.
func (b Message) SetServerAddr(a [4]byte) { copy(b[siaddrOffset:], a[:]) }

// SetGatewayAddr sets giaddr.
func (b Message) SetGatewayAddr(a [4]byte) { copy(b[giaddrOffset:], a[:]) }

// SetClientHardwareAddr copies up to 16 bytes of hw into chaddr and zeroes
// the rest of the field. It does not touch hlen.
func (b Message) SetClientHardwareAddr(hw []byte) {
	f := b.ClientHardwareAddr()
	clear(f[copy(f, hw):])
}

// SetCookie sets the magic cookie.
func (b Message) SetCookie(v uint32) { binary.BigEndian.PutUint32(b[cookieOffset:], v) }
