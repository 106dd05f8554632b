// SPDX-License-Identifier: GPL-2.0-or-later

package tap

// SegmentHeaders finds the TCP header of f, an Ethernet, IPv4 or IPv6
// (without extension headers), TCP frame as Offloader.WriteSegments takes:
// where the TCP header starts, where the payload starts, and whether it is
// IPv6. ok is false for any other frame. For other devices with a
// virtio-net header (tap/vhostuser).
func SegmentHeaders(f []byte) (start, hdrLen int, v6, ok bool) { return segmentHeaders(f) }
