// SPDX-License-Identifier: GPL-2.0-or-later

package tap

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Device is the guest's end of the link: a tap device (pasta) or a qemu
// stream socket (passt). It is not safe for concurrent use; it belongs to
// the event-loop goroutine.
type Device interface {
	// Fd returns the file descriptor to register with epoll.
	Fd() int
	// ReadFrames reads up to len(bufs) frames without blocking, frame i
	// into bufs[i], its length into sizes[i]. It returns the number of
	// frames read; with nothing to read it returns (0, nil). The n frames
	// are valid even when err is not nil: process them, then handle err
	// (for ErrClosed and the framing errors, close the device).
	ReadFrames(bufs [][]byte, sizes []int) (n int, err error)
	// WriteFrames writes frames, each starting with its Ethernet header,
	// and returns how many were written. A full device is not an error:
	// the frames from n on are dropped and the caller counts them. err is
	// for a device that failed (the peer went away).
	WriteFrames(frames [][]byte) (n int, err error)
	// Close closes the file descriptor.
	Close() error
}

// Backlogger is implemented by devices that may hold back the tail of a
// partially written frame (Stream). While Pending reports true, the caller
// asks epoll for EPOLLOUT on Fd and calls Flush when it is writable; until
// the tail is gone, WriteFrames writes nothing (returns 0).
type Backlogger interface {
	Pending() bool
	Flush() error
}

// Roomer is implemented by devices whose room for frames comes and goes
// with the guest (vhost-user: the receive buffers the guest posted). Room
// returns about how many bytes of frames the device takes now without
// holding any back; a device that has room again makes its Fd readable
// (the guest's kick). Devices without it take what the kernel queue takes.
type Roomer interface {
	Room() int
}

// Lender is implemented by devices that lend the guest's receive buffers
// (vhost-user), so that a frame's payload is read from a host socket
// straight into the guest's memory instead of being copied there from
// the caller's buffer. A Lend is always followed by one Commit before
// any other call on the device.
type Lender interface {
	// Lending reports whether Lend may lend now: the device is up, the
	// guest takes partial TCP checksums, and nothing is held back.
	Lending() bool
	// Lend borrows buffers for up to len(caps) frames: each hdr bytes
	// of headers (Ethernet and on; the device's own header is its
	// business), then caps[i] bytes of payload. It appends iovecs for
	// the payload of the frames it lends, frame after frame, to iov (up
	// to cap(iov): it never grows it), sets caps[i] of those frames to
	// the payload lent (less than asked when the buffers ran out, never
	// 0), and returns how many frames it lent and iov. 0 frames: none
	// now (no buffers, a first buffer too small for the headers, a
	// malformed ring): the caller writes its frames as usual.
	Lend(hdr int, caps []int, iov []unix.Iovec) (n int, out []unix.Iovec, err error)
	// Commit ends the last Lend: frames 0 to len(heads)-1 go to the
	// guest, frame i with the headers heads[i] (hdr bytes, copied) and
	// sizes[i] bytes of the payload read into its buffers; every frame
	// but the last committed one must have the payload lent in full.
	// Each is a TCP segment whose checksum holds the pseudo-header sum
	// only (see Offloader.WriteSegments), csumStart the offset of its
	// TCP header. Buffers not committed go back to the guest unused.
	// It publishes them and notifies the guest, and returns how many
	// frames went.
	Commit(heads [][]byte, sizes []int, csumStart int) (n int, err error)
}

// Counted is implemented by devices that count frames they lost or split
// on the way out (Tun, Stream); the engine puts the counts on its stats
// line.
type Counted interface {
	Counters() Counters
}

// Counters are a device's own counts, since it was made.
type Counters struct {
	WriteErrors   uint64 // Tun: frames write(2) refused with an error other than a full queue (dropped)
	Unframable    uint64 // Stream: frames skipped because they cannot be framed (empty, longer than MaxStreamFrame)
	PartialWrites uint64 // Stream: times the socket took only part of a frame (the tail waits for EPOLLOUT)
	RingErrors    uint64 // vhost-user: malformed descriptor chains dropped, and queues stopped as malformed
	TooLong       uint64 // vhost-user: frames dropped that did not fit (the guest's transmit buffer, a receive chain)
	Held          uint64 // vhost-user: frames held back while the guest had no receive buffers (then written in order)

	// Offloads (Tun with a virtio-net header): GSO frames read (TCP
	// segments larger than the MTU from the guest's kernel) and written
	// (cut into MTU-sized segments by it), partial checksums finished in
	// software, segment frames dropped for headers that are not TCP.
	GSOIn, GSOOut, ChecksumsDone, BadSegments uint64
}

// Offloader is implemented by devices that carry a virtio-net header
// (Tun from NewTunVnet): frames written may be TCP segments larger than
// the MTU with a partial checksum, which the guest's kernel takes as
// they are (it would cut them into MTU-sized segments only to forward
// them); frames read may be the same, from the guest's kernel.
type Offloader interface {
	// Offloads returns what the kernel hands the reader (TUNSETOFFLOAD).
	Offloads() Offloads
	// MaxSegment returns the longest IP packet of a segment frame given
	// to WriteSegments; 0: the device takes none.
	MaxSegment() int
	// WriteSegments is WriteFrames where frame i, if segs[i] is not 0,
	// is an Ethernet, IPv4 or IPv6 (no extension headers), TCP frame
	// whose checksum field holds only the pseudo-header sum (over the
	// whole TCP length): the device marks it NEEDS_CSUM and, if its
	// payload is longer than segs[i], as a GSO frame of segs[i]-byte
	// segments. segs may be nil or shorter than frames.
	WriteSegments(frames [][]byte, segs []uint16) (n int, err error)
	// CompleteChecksums turns on the software completion of every
	// partial checksum in the frames read (for a capture); off, only
	// those of frames other than TCP are finished.
	CompleteChecksums(on bool)
}

// Errors returned by the devices. They are preallocated: returning them
// allocates nothing.
var (
	// ErrClosed: the peer closed the stream (EOF), or the device went away.
	ErrClosed = errors.New("tap: device closed by peer")
	// ErrZeroLength: a qemu stream frame announced a length of zero.
	ErrZeroLength = errors.New("tap: stream frame with zero length")
	// ErrFrameTooLong: a qemu stream frame announced a length above
	// MaxStreamFrame or above the caller's buffer.
	ErrFrameTooLong = errors.New("tap: stream frame longer than the limit")
)

// MaxStreamFrame is the longest frame the qemu stream protocol carries, as
// passt's ETH_MAX_MTU check in tap_passt_input().
const MaxStreamFrame = 65535

// StreamHeaderSize is the size of the big-endian length before each frame.
const StreamHeaderSize = 4
