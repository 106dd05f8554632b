// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"gopasst/proto/l2"
)

// VnetHdrLen is the size of the virtio-net header (struct virtio_net_hdr)
// before each frame on a tap opened with IFF_VNET_HDR; set explicitly with
// TUNSETVNETHDRSZ.
const VnetHdrLen = 10

// VnetHdr is a view of a struct virtio_net_hdr (include/uapi/linux/
// virtio_net.h). Its 16-bit fields are in the host's byte order: tun
// uses little-endian on little-endian hosts and, without TUNSETVNETLE,
// the legacy (native) order on big-endian ones.
type VnetHdr []byte

// Flags returns the flags (unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, ...).
func (h VnetHdr) Flags() uint8 { return h[0] }

// GSOType returns the GSO type (unix.VIRTIO_NET_HDR_GSO_*).
func (h VnetHdr) GSOType() uint8 { return h[1] }

// HdrLen returns the length of the headers before the payload.
func (h VnetHdr) HdrLen() uint16 { return binary.NativeEndian.Uint16(h[2:]) }

// GSOSize returns the payload size of each segment of a GSO frame.
func (h VnetHdr) GSOSize() uint16 { return binary.NativeEndian.Uint16(h[4:]) }

// CsumStart returns where the checksummed bytes start (NEEDS_CSUM).
func (h VnetHdr) CsumStart() uint16 { return binary.NativeEndian.Uint16(h[6:]) }

// CsumOffset returns where the checksum goes, from CsumStart.
func (h VnetHdr) CsumOffset() uint16 { return binary.NativeEndian.Uint16(h[8:]) }

// Encode writes every field.
func (h VnetHdr) Encode(flags, gsoType uint8, hdrLen, gsoSize, csumStart, csumOffset uint16) {
	h[0], h[1] = flags, gsoType
	binary.NativeEndian.PutUint16(h[2:], hdrLen)
	binary.NativeEndian.PutUint16(h[4:], gsoSize)
	binary.NativeEndian.PutUint16(h[6:], csumStart)
	binary.NativeEndian.PutUint16(h[8:], csumOffset)
}

// Offloads are what the kernel agreed to hand the reader of a tap opened
// with IFF_VNET_HDR (TUNSETOFFLOAD): frames with a partial checksum, TCP
// segments larger than the MTU. Writing such frames to the tap needs only
// the header, whatever was agreed.
type Offloads uint8

// Offloads, as the TUN_F_* flags.
const (
	OffloadCsum Offloads = unix.TUN_F_CSUM // partial checksums (NEEDS_CSUM)
	OffloadTSO4 Offloads = unix.TUN_F_TSO4 // TCP over IPv4 segments up to 64 KiB
	OffloadTSO6 Offloads = unix.TUN_F_TSO6 // TCP over IPv6 segments up to 64 KiB
)

// offloadSteps are tried in order until the kernel takes one: everything
// this package handles, then checksums only, then nothing. USO (UDP
// segmentation) is not asked for: a UDP GSO frame would have to be split
// into datagrams before the UDP handler.
var offloadSteps = [...]Offloads{OffloadCsum | OffloadTSO4 | OffloadTSO6, OffloadCsum, 0}

// String lists the offloads, as "csum,tso4,tso6" or "none".
func (o Offloads) String() string {
	if o == 0 {
		return "none"
	}
	s := ""
	for _, x := range [...]struct {
		f    Offloads
		name string
	}{{OffloadCsum, "csum"}, {OffloadTSO4, "tso4"}, {OffloadTSO6, "tso6"}} {
		if o&x.f != 0 {
			if s != "" {
				s += ","
			}
			s += x.name
		}
	}
	return s
}

// ErrNoVnetHdr: the tap does not take the virtio-net header size.
var ErrNoVnetHdr = errors.New("tap: TUNSETVNETHDRSZ refused")

// SetOffloads prepares fd, a tap opened with IFF_VNET_HDR, for a Tun made
// with NewTunVnet: it sets the header size to VnetHdrLen, then asks for
// the first of checksum+TSO4+TSO6, checksum alone, nothing that the
// kernel takes (EINVAL: it does not know a flag), and returns it. Only a
// refused header size, or an error other than EINVAL, is an error.
func SetOffloads(fd int) (Offloads, error) {
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, VnetHdrLen); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNoVnetHdr, err)
	}
	for _, o := range offloadSteps {
		err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, int(o))
		if err == nil {
			return o, nil
		}
		if err != unix.EINVAL {
			return 0, fmt.Errorf("TUNSETOFFLOAD %s: %w", o, err)
		}
	}
	return 0, nil
}

// FinishChecksum completes a partial checksum as a NIC does for
// NEEDS_CSUM: the one's-complement sum of frame[start:], with the
// pseudo-header sum the sender left in the checksum field, goes at
// start+offset. A UDP checksum of zero is sent as 0xffff (offset 6 is
// UDP's). It returns false if the offsets do not fit the frame.
func FinishChecksum(frame []byte, start, offset int) bool {
	at := start + offset
	if start < 0 || offset < 0 || at+2 > len(frame) {
		return false
	}
	c := l2.Fold(l2.Checksum(frame[start:], 0))
	if c == 0 && offset == udpCsumOffset {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(frame[at:], c)
	return true
}

// Checksum offsets from the start of the transport header.
const (
	tcpCsumOffset = 16
	udpCsumOffset = 6
)
