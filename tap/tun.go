// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Tun is a tap device opened with IFF_TAP|IFF_NO_PI: one read(2) or
// write(2) moves one whole frame. Mirrors tap_handler_pasta() and
// tap_send_frames_pasta() in passt tap.c. Made with NewTunVnet (the tap
// also has IFF_VNET_HDR), every frame is preceded by a virtio-net header,
// read with readv(2) and written with writev(2) in an iovec of its own:
// see the package comment, "Offloads".
type Tun struct {
	fd          int
	writeErrors uint64 // frames refused by write(2) for another reason than a full queue

	vnet     bool     // IFF_VNET_HDR: a header before every frame
	off      Offloads // what the kernel agreed to hand us (TUNSETOFFLOAD)
	complete bool     // finish every partial checksum read, TCP too (--pcap)
	hdr      [VnetHdrLen]byte
	iov      [2]unix.Iovec // [header, frame]

	gsoIn, gsoOut, csumDone, badSegments uint64
}

// NewTun wraps fd, an open tap file descriptor (IFF_TAP|IFF_NO_PI). It sets
// O_NONBLOCK. The Device takes ownership of fd.
func NewTun(fd int) Device {
	_ = unix.SetNonblock(fd, true)
	return &Tun{fd: fd}
}

// NewTunVnet wraps fd, a tap opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR
// on which SetOffloads returned off. It sets O_NONBLOCK. The Device takes
// ownership of fd.
func NewTunVnet(fd int, off Offloads) *Tun {
	_ = unix.SetNonblock(fd, true)
	t := &Tun{fd: fd, vnet: true, off: off}
	t.iov[0].Base = &t.hdr[0]
	t.iov[0].SetLen(VnetHdrLen)
	return t
}

// Fd returns the tap file descriptor.
func (t *Tun) Fd() int { return t.fd }

// ReadFrames reads one frame per read(2) until EAGAIN or len(bufs) frames.
// A frame longer than its buffer is truncated by the kernel; size the
// buffers for the tap MTU plus headers (with offloads, for 64 KiB
// segments: the largest IP packet plus headers, whatever the MTU).
func (t *Tun) ReadFrames(bufs [][]byte, sizes []int) (int, error) {
	n := 0
	for n < len(bufs) && n < len(sizes) {
		var (
			r     int
			errno unix.Errno
		)
		if t.vnet {
			r, errno = t.readVnet(bufs[n])
		} else {
			r, errno = read(t.fd, bufs[n])
		}
		switch errno {
		case 0:
		case unix.EAGAIN:
			return n, nil
		case unix.EBADF, unix.EBADFD:
			return n, ErrClosed
		default:
			return n, errno
		}
		if r == 0 {
			// A tap read never returns 0 while the device exists.
			return n, ErrClosed
		}
		sizes[n] = max(r-t.hdrLen(), 0) // a bare header: an empty frame, dropped by the engine
		n++
	}
	return n, nil
}

// hdrLen is the length of the header before each frame read.
func (t *Tun) hdrLen() int {
	if t.vnet {
		return VnetHdrLen
	}
	return 0
}

// readVnet reads one header and frame into b, and returns the bytes read,
// header included.
// A partial checksum (NEEDS_CSUM) is finished here unless it is TCP's
// and complete is off: the TCP handler never verifies checksums, the
// others (DHCP) may.
func (t *Tun) readVnet(b []byte) (int, unix.Errno) {
	if len(b) == 0 {
		return 0, unix.EINVAL
	}
	t.iov[1].Base = &b[0]
	t.iov[1].SetLen(len(b))
	r, errno := readv(t.fd, t.iov[:])
	if errno != 0 || r <= VnetHdrLen {
		return r, errno
	}
	f := b[:r-VnetHdrLen]
	h := VnetHdr(t.hdr[:])
	if h.GSOType() != unix.VIRTIO_NET_HDR_GSO_NONE {
		t.gsoIn++
	}
	if h.Flags()&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
		off := int(h.CsumOffset())
		if (t.complete || off != tcpCsumOffset) && FinishChecksum(f, int(h.CsumStart()), off) {
			t.csumDone++
		}
	}
	return r, 0
}

// WriteFrames writes each frame with one write(2). EAGAIN and ENOBUFS
// (queue full) stop the batch; other per-frame errors (EIO with the link
// down, EINVAL for a frame the kernel rejects) drop that frame and count
// it in WriteErrors. Only EBADF is returned as an error.
func (t *Tun) WriteFrames(frames [][]byte) (int, error) { return t.WriteSegments(frames, nil) }

// WriteSegments implements Offloader: WriteFrames, where frame i is a
// TCP segment with a partial checksum (the pseudo-header sum, the
// kernel finishes it) cut into segments of segs[i] bytes of payload by
// the kernel, if segs[i] is not 0 (and the Tun was made by NewTunVnet).
// Frames with segs[i] == 0, or beyond segs, are complete frames. A
// segment frame whose headers are not IPv4 or IPv6 and TCP is dropped
// and counted (BadSegments).
func (t *Tun) WriteSegments(frames [][]byte, segs []uint16) (int, error) {
	n := 0
	for i, f := range frames {
		var errno unix.Errno
		switch {
		case !t.vnet:
			_, errno = write(t.fd, f)
		case len(f) == 0:
		default:
			var seg uint16
			if i < len(segs) {
				seg = segs[i]
			}
			if !t.header(f, seg) {
				t.badSegments++
				n++
				continue
			}
			t.iov[1].Base = &f[0]
			t.iov[1].SetLen(len(f))
			_, errno = writev(t.fd, t.iov[:])
		}
		switch errno {
		case 0:
		case unix.EAGAIN, unix.ENOBUFS:
			return n, nil
		case unix.EBADF, unix.EBADFD:
			return n, ErrClosed
		default:
			t.writeErrors++
		}
		n++
	}
	return n, nil
}

// Offsets in a frame written by WriteSegments.
const (
	ethTypeOffset   = 12
	ethSize         = 14
	ipv4MinSize     = 20
	ipv6Size        = 40
	tcpMinSize      = 20
	tcpDataOffset   = 12
	ipv4ProtoOffset = 9
	ipv6NextOffset  = 6
	protoTCP        = 6
)

// header writes the virtio-net header of frame f: all zero for a complete
// frame (seg 0); else NEEDS_CSUM at the TCP checksum and, when the
// payload is longer than seg, TCPV4 or TCPV6 GSO in segments of seg
// bytes. It returns false if f is not an Ethernet, IP, TCP frame.
func (t *Tun) header(f []byte, seg uint16) bool {
	h := VnetHdr(t.hdr[:])
	if seg == 0 {
		clear(t.hdr[:])
		return true
	}
	start, hdrLen, v6, ok := segmentHeaders(f)
	if !ok {
		return false
	}
	gso := uint8(unix.VIRTIO_NET_HDR_GSO_TCPV4)
	if v6 {
		gso = unix.VIRTIO_NET_HDR_GSO_TCPV6
	}
	if len(f)-hdrLen <= int(seg) {
		gso, seg = unix.VIRTIO_NET_HDR_GSO_NONE, 0
	} else {
		t.gsoOut++
	}
	h.Encode(unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, gso, uint16(hdrLen), seg, uint16(start), tcpCsumOffset)
	return true
}

// segmentHeaders finds the TCP header of f, an Ethernet, IPv4 or IPv6
// (without extension headers), TCP frame: where it starts, where the
// payload starts, and the IP version. ok is false for any other frame.
func segmentHeaders(f []byte) (start, hdrLen int, v6, ok bool) {
	if len(f) < ethSize+ipv4MinSize+tcpMinSize {
		return 0, 0, false, false
	}
	var ipLen int
	switch binary.BigEndian.Uint16(f[ethTypeOffset:]) {
	case 0x0800:
		ip := f[ethSize:]
		if ip[0]>>4 != 4 || ip[ipv4ProtoOffset] != protoTCP {
			return 0, 0, false, false
		}
		ipLen = int(ip[0]&0xf) * 4
	case 0x86dd:
		if len(f) < ethSize+ipv6Size+tcpMinSize || f[ethSize]>>4 != 6 || f[ethSize+ipv6NextOffset] != protoTCP {
			return 0, 0, false, false
		}
		ipLen, v6 = ipv6Size, true
	default:
		return 0, 0, false, false
	}
	start = ethSize + ipLen
	if start+tcpMinSize > len(f) {
		return 0, 0, false, false
	}
	hdrLen = start + int(f[start+tcpDataOffset]>>4)*4
	if hdrLen > len(f) || hdrLen < start+tcpMinSize {
		return 0, 0, false, false
	}
	return start, hdrLen, v6, true
}

// FinishSegment finishes the partial checksum of a segment frame (see
// Offloader.WriteSegments) in place, as the guest's kernel would for
// each segment, so that a capture of the whole frame shows a correct
// checksum. It returns false if f is not such a frame.
func FinishSegment(f []byte) bool {
	start, _, _, ok := segmentHeaders(f)
	return ok && FinishChecksum(f, start, tcpCsumOffset)
}

// Offloads implements Offloader: what the kernel agreed to hand us.
func (t *Tun) Offloads() Offloads { return t.off }

// MaxSegment implements Offloader: the longest IP packet a segment frame
// may carry (65535), or 0 without a virtio-net header.
func (t *Tun) MaxSegment() int {
	if !t.vnet {
		return 0
	}
	return 0xffff
}

// CompleteChecksums implements Offloader: on, every partial checksum of
// the frames read is finished (a capture shows correct checksums); off,
// TCP's are left as the kernel wrote them (the pseudo-header sum).
func (t *Tun) CompleteChecksums(on bool) { t.complete = on }

// WriteErrors returns how many frames write(2) refused with an error other
// than a full queue (EIO while the link is down, EINVAL); WriteFrames
// counted them as written and dropped them.
func (t *Tun) WriteErrors() uint64 { return t.writeErrors }

// Counters implements Counted.
func (t *Tun) Counters() Counters {
	return Counters{WriteErrors: t.writeErrors, GSOIn: t.gsoIn, GSOOut: t.gsoOut, ChecksumsDone: t.csumDone, BadSegments: t.badSegments}
}

// Close closes the tap file descriptor.
func (t *Tun) Close() error {
	if t.fd < 0 {
		return nil
	}
	err := unix.Close(t.fd)
	t.fd = -1
	if err != nil {
		return fmt.Errorf("close tap: %w", err)
	}
	return nil
}
