// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"

	"gopasst/tap"
)

// NetHdr is a virtio-net header (struct virtio_net_hdr, and the
// num_buffers after it with VERSION_1 or MRG_RXBUF) at the start of a
// byte slice.
type NetHdr []byte

// Flags returns the flags (NEEDS_CSUM, DATA_VALID).
func (h NetHdr) Flags() uint8 { return h[0] }

// GSOType returns the segmentation type (0: none).
func (h NetHdr) GSOType() uint8 { return h[1] }

// CsumStart returns where the checksummed part of a NEEDS_CSUM frame
// starts.
func (h NetHdr) CsumStart() uint16 { return binary.LittleEndian.Uint16(h[6:]) }

// CsumOffset returns where, after CsumStart, the checksum goes.
func (h NetHdr) CsumOffset() uint16 { return binary.LittleEndian.Uint16(h[8:]) }

const (
	netHdrFNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	tcpCsumOffset    = 16
)

// partialTCP reports whether a NEEDS_CSUM frame is a TCP segment over
// IPv4 or IPv6 (without extension headers, as tap.SegmentHeaders finds
// them) whose checksum is the one left partial: the engine's TCP never
// reads it (the host's kernel makes its own), so it stays as the guest
// left it.
func partialTCP(f []byte, start, off int) bool {
	tcp, _, _, ok := tap.SegmentHeaders(f)
	return ok && off == tcpCsumOffset && start == tcp
}

// finishChecksum completes the checksum a guest with VIRTIO_NET_F_CSUM
// left partial (the pseudo-header sum in the field), for every frame but
// TCP segments (partialTCP) unless all is set (a capture): UDP (DHCP
// checks it), ICMP and the rest. It reports false when start and offset
// do not fit the frame.
func finishChecksum(f []byte, start, off int, all bool) bool {
	if !all && start < len(f) && off <= len(f)-start-2 && partialTCP(f, start, off) {
		return true
	}
	return tap.FinishChecksum(f, start, off)
}
