// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"time"

	"golang.org/x/sys/unix"
)

// Kind names the owner of an epoll-registered file descriptor.
type Kind uint8

// Kinds of epoll owners. The zero Kind is no owner. New protocols append;
// the values are not persisted.
const (
	KindTap          Kind = iota + 1 // the tap device or the qemu stream socket (the engine's)
	KindEngine                       // the engine's other fds: the eventfd that ends Run
	KindTCP                          // a TCP connection's host socket
	KindTCPListen                    // a TCP listening socket for -t forwarding
	KindUDP                          // a UDP flow's host socket
	KindUDPListen                    // a UDP socket bound for -u/-U forwarding
	KindPing                         // an ICMP/ICMPv6 echo (ping) socket
	KindSplice                       // pasta: a spliced (socket-to-socket) TCP connection's socket
	KindSpliceListen                 // pasta: a -T listening socket inside the namespace
	KindCtl                          // pasta: the -c control socket and its clients (package ctl)
	numKinds
)

// NumKinds is the number of kinds; handler tables may be indexed by Kind.
const NumKinds = int(numKinds)

// Ref identifies the owner of an fd in the epoll set. It is packed into the
// 64 bits of epoll data: Fd in the low 32 bits, Index in the next 24, Kind in
// the top 8.
type Ref struct {
	Kind  Kind
	Index uint32 // index in the owner's table; < 1<<24
	Fd    int32
}

// MaxIndex is the largest index a Ref can carry.
const MaxIndex = 1<<24 - 1

// Pack returns r as epoll data.
func (r Ref) Pack() uint64 {
	return uint64(r.Kind)<<56 | uint64(r.Index&MaxIndex)<<32 | uint64(uint32(r.Fd))
}

// Unpack is the inverse of Pack.
func Unpack(v uint64) Ref {
	return Ref{Kind: Kind(v >> 56), Index: uint32(v>>32) & MaxIndex, Fd: int32(uint32(v))}
}

// Poller is the handlers' view of the engine's epoll set. Events are the
// unix.EPOLL* bits.
type Poller interface {
	Add(fd int, events uint32, ref Ref) error
	Mod(fd int, events uint32, ref Ref) error
	Del(fd int) error
}

// Tap takes frames towards the guest. Each frame starts with its Ethernet
// header. Send never blocks and never fails towards the caller: when the
// guest side is full or gone, frames are dropped and counted by the engine
// (TCP recovers by its own retransmission; see proto/tcp). The slice of
// frames is not retained; the bytes are, until the end of the wake-up.
type Tap interface {
	Send(frames [][]byte)
}

// Flusher is implemented by a Tap that can write out the frames queued so
// far in the middle of a wake-up. A handler that runs out of frame buffers
// calls Flush and, if it returns true, may reuse every buffer it has sent
// before: the device took them all. False means the device is full (the
// frames it refused are dropped and counted, as at the end of a wake-up):
// the handler should stop until the next wake-up. Handlers that never run
// out of buffers need not care.
type Flusher interface {
	Flush() bool
}

// Roomer is implemented by a Tap that knows how much the guest takes now
// (tap.Roomer): Room returns about how many more bytes of frames this
// wake-up may send before the device has to hold them back. A handler
// whose data can wait where it is (TCP: in the host socket) sends no more
// than that and tries again at the start of the next wake-up (the device
// wakes the engine when the guest makes room). math.MaxInt when the
// device has no such limit.
type Roomer interface {
	Room() int
}

// Segmenter is implemented by a Tap whose device takes TCP segments
// larger than the MTU with a partial checksum (tap.Offloader: pasta's tap
// with a virtio-net header). MaxSegment returns the longest IP packet of
// such a frame, 0 when the device takes none (then SendSegments must not
// be called). SendSegments is Send for TCP frames whose checksum field
// holds only the pseudo-header sum over the whole TCP length (not the
// complement of the full sum: the guest's kernel does not check it) and
// whose payload the guest's kernel is to see as segments of mss bytes;
// they are not fragmented, whatever the MTU. Other devices keep Send.
type Segmenter interface {
	MaxSegment() int
	SendSegments(frames [][]byte, mss uint16)
}

// Lender is implemented by a Tap whose device lends the guest's receive
// buffers (tap.Lender: vhost-user), so that a handler reads a host
// socket's data straight into them, with no copy. Lending reports
// whether it may lend now (not with a capture on, nor to a guest that
// does not take partial checksums): else the handler sends as usual.
// Lend first writes out the frames queued so far (so that nothing sent
// before is overtaken), then borrows buffers for up to len(caps) frames
// of hdr bytes of headers and caps[i] bytes of payload, as iovecs
// appended to iov (up to its capacity), sets caps[i] to the payload lent
// and returns how many frames it lent (0: none now; send as usual).
// Commit, called once after every Lend and before anything else is sent,
// sends the first len(heads) frames: the headers heads[i] (copied), then
// sizes[i] bytes read into the lent payload (all of it, but for the last
// frame), TCP segments whose checksum holds the pseudo-header sum only,
// the TCP header at csumStart; the other buffers go back to the guest.
type Lender interface {
	Lending() bool
	Lend(hdr int, caps []int, iov []unix.Iovec) (n int, out []unix.Iovec)
	Commit(heads [][]byte, sizes []int, csumStart int)
}

// TickInterval is the longest the engine waits between two Tick calls.
const TickInterval = 10 * time.Millisecond
