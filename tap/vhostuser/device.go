// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"gopasst/tap"
)

// Config is what New needs besides the connection.
type Config struct {
	Log *slog.Logger // nil: slog.Default()
	MTU int          // the guest's MTU (IP packet bytes); 0: 65520, passt's default
}

// Device is a tap.Device on a vhost-user connection from qemu (the
// front end): it answers the control messages and moves frames through
// the guest's virtqueues. It belongs to the event loop: not safe for
// concurrent use. All its state is here (see "State" in doc.go).
type Device struct {
	conn int // the front end's connection (blocking, with timeouts)
	ep   int // epoll set of conn and the kick eventfds: Fd()
	log  *slog.Logger

	features      uint64 // acked by SET_FEATURES
	protoFeatures uint64 // acked by SET_PROTOCOL_FEATURES
	hdrLen        int    // virtio-net header: netHdrSize or netHdrLegacySize
	mem           memory
	q             [numQueues]vring
	c             chain   // the walker, reused
	backlog       backlog // frames for the guest waiting for receive buffers
	lend          lending // receive buffers lent (Lend) until Commit

	mtu       int    // the guest's MTU: the longest segment (MaxSegment)
	finishAll bool   // finish partial TCP checksums too (CompleteChecksums)
	scratch   []byte // a segment finished for a guest without GUEST_CSUM

	fence    uint32 // stored to, as a fence (askKick)
	wake     int    // eventfd in ep: the device wakes the engine itself (askKicks)
	rxSeen   uint16 // the receive queue's available index when its room was last looked at
	rxShort  bool   // Room found less than a frame of 64 KiB, or a frame found none: someone may wait
	err      error  // sticky: the connection is over
	counters tap.Counters

	// Preallocated buffers: the control path and the eventfd writes.
	msg    [headerSize + maxPayload]byte
	oob    []byte
	reply  [headerSize + 64]byte
	evBuf  [8]byte
	events [numQueues + 2]unix.EpollEvent
	hdr    [netHdrSize]byte // receive: the header written
	txHdr  [netHdrSize]byte // transmit: the header read
}

var (
	_ tap.Device    = (*Device)(nil)
	_ tap.Counted   = (*Device)(nil)
	_ tap.Roomer    = (*Device)(nil)
	_ tap.Offloader = (*Device)(nil)
	_ tap.Lender    = (*Device)(nil)
)

// errFault: guest memory faulted (the front end shrank or unmapped it).
var errFault = errors.New("vhost-user: guest memory access faulted")

// New makes a Device on conn, an accepted UNIX stream socket from qemu.
// The Device owns conn from now on, also on error.
func New(conn int, cfg Config) (*Device, error) {
	d := &Device{conn: conn, ep: -1, wake: -1, log: cfg.Log, hdrLen: netHdrLegacySize, mtu: cfg.MTU}
	if d.mtu <= 0 {
		d.mtu = 65520
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	for i := range d.q {
		d.q[i].reset()
	}
	d.oob = make([]byte, unix.CmsgSpace(maxFds*4))
	// Control messages are read when epoll says the first bytes are
	// there; the rest of a message, and replies, may block for at most
	// a second.
	tv := unix.Timeval{Sec: 1}
	if err := unix.SetNonblock(conn, false); err != nil {
		unix.Close(conn)
		return nil, fmt.Errorf("vhost-user: %w", err)
	}
	for _, opt := range []int{unix.SO_RCVTIMEO, unix.SO_SNDTIMEO} {
		if err := unix.SetsockoptTimeval(conn, unix.SOL_SOCKET, opt, &tv); err != nil {
			unix.Close(conn)
			return nil, fmt.Errorf("vhost-user: socket timeout: %w", err)
		}
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Close(conn)
		return nil, fmt.Errorf("vhost-user: epoll: %w", err)
	}
	d.ep = ep
	if d.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		d.wake = -1
		d.Close()
		return nil, fmt.Errorf("vhost-user: eventfd: %w", err)
	}
	if err := d.watch(d.wake); err != nil {
		d.Close()
		return nil, fmt.Errorf("vhost-user: epoll: %w", err)
	}
	if err := d.watch(conn); err != nil {
		d.Close()
		return nil, fmt.Errorf("vhost-user: epoll: %w", err)
	}
	return d, nil
}

// Fd returns the descriptor to register with epoll: an epoll set of its
// own, readable when the front end sent a message or the guest kicked a
// queue.
func (d *Device) Fd() int { return d.ep }

// Counters implements tap.Counted.
func (d *Device) Counters() tap.Counters { return d.counters }

// Close unmaps the guest's memory and closes every descriptor.
func (d *Device) Close() error {
	for i := range d.q {
		d.stopQueue(&d.q[i])
	}
	d.mem.unmap()
	closeFd(&d.wake)
	if d.ep >= 0 {
		unix.Close(d.ep)
		d.ep = -1
	}
	if d.conn >= 0 {
		unix.Close(d.conn)
		d.conn = -1
	}
	return nil
}

// ReadFrames handles what the front end sent, then takes up to len(bufs)
// frames the guest transmitted; see tap.Device.
func (d *Device) ReadFrames(bufs [][]byte, sizes []int) (n int, err error) {
	if d.err != nil {
		return 0, d.err
	}
	d.giveBack()
	defer d.guard(&err, debug.SetPanicOnFault(true))
	k, e := unix.EpollWait(d.ep, d.events[:], 0)
	if e != nil && e != unix.EINTR {
		d.err = fmt.Errorf("vhost-user: epoll: %w", e)
		return 0, d.err
	}
	for _, ev := range d.events[:max(k, 0)] {
		fd := int(ev.Fd)
		if fd == d.conn {
			if err := d.control(); err != nil {
				d.err = err
				return 0, err
			}
			continue
		}
		unix.Read(fd, d.evBuf[:]) // a kick, or our own wake-up: the queues are walked below anyway
	}
	d.flushBacklog()
	n = d.transmit(bufs, sizes)
	d.askKicks(bufs, sizes, &n)
	return n, nil
}

// askKicks writes both queues' avail_event (with the event index), and
// looks at what the guest made available without a kick meanwhile: the
// transmit queue's entries are taken now (as far as bufs go; a full batch
// makes the engine read again anyway); new receive buffers, while a
// frame or a connection may be waiting for them, wake the engine once
// more through the device's own eventfd, so that the waiting ones get
// their turn.
func (d *Device) askKicks(bufs [][]byte, sizes []int, n *int) {
	if q := &d.q[txQueue]; q.eventIdx && q.ready() {
		for range 8 {
			if q.askKick(&d.fence) == q.lastAvail || *n == len(bufs) || !q.ready() {
				break
			}
			*n += d.transmit(bufs[*n:], sizes[*n:])
		}
	}
	if q := &d.q[rxQueue]; q.eventIdx && q.ready() {
		if idx := q.askKick(&d.fence); idx != d.rxSeen && (d.rxShort || d.backlog.n > 0) {
			d.rxSeen, d.rxShort = idx, false
			d.evBuf = [8]byte{1}
			unix.Write(d.wake, d.evBuf[:])
		}
	}
}

// WriteFrames copies frames into the guest's receive buffers, or holds
// them while the guest has none (see backlog); see tap.Device. Frames
// beyond the backlog too are left to the caller, counted as a full
// device.
func (d *Device) WriteFrames(frames [][]byte) (n int, err error) {
	if d.err != nil {
		return 0, d.err
	}
	defer d.guard(&err, debug.SetPanicOnFault(true))
	return d.receive(frames, nil), nil
}

// WriteSegments implements tap.Offloader: WriteFrames where frame i, if
// segs[i] is not 0, is a TCP segment whose checksum field holds only the
// pseudo-header sum. The guest gets it with NEEDS_CSUM (GUEST_CSUM), so
// nobody sums the payload; a guest without GUEST_CSUM gets it finished.
// Segments are never longer than the MTU here (MaxSegment), so no GSO.
func (d *Device) WriteSegments(frames [][]byte, segs []uint16) (n int, err error) {
	if d.err != nil {
		return 0, d.err
	}
	defer d.guard(&err, debug.SetPanicOnFault(true))
	return d.receive(frames, segs), nil
}

// MaxSegment implements tap.Offloader: the longest IP packet of a segment
// frame, the MTU: segments carry partial checksums, not GSO.
func (d *Device) MaxSegment() int { return d.mtu }

// Offloads implements tap.Offloader: what the guest may hand the engine
// (partial checksums with VIRTIO_NET_F_CSUM).
func (d *Device) Offloads() tap.Offloads {
	if d.features&(1<<featCsum) != 0 {
		return tap.OffloadCsum
	}
	return 0
}

// CompleteChecksums implements tap.Offloader: on, the partial TCP
// checksums of transmitted frames are finished too (for a capture).
func (d *Device) CompleteChecksums(on bool) { d.finishAll = on }

// guard turns a fault on guest memory (a front end that truncated the
// memory file under the mapping) into the end of the connection, and
// restores the goroutine's panic-on-fault setting to old.
func (d *Device) guard(err *error, old bool) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		if re, ok := r.(runtime.Error); ok && isFault(re) {
			d.err = errFault
			*err = errFault
			return
		}
		panic(r)
	}
}

// isFault reports whether a runtime error is a memory fault that
// debug.SetPanicOnFault turned into a panic (it has an Addr method).
func isFault(e runtime.Error) bool {
	_, ok := e.(interface{ Addr() uintptr })
	return ok
}

// watch adds fd to the device's epoll set.
func (d *Device) watch(fd int) error {
	return unix.EpollCtl(d.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
}

// notify signals a queue's call eventfd.
func (d *Device) notify(q *vring) {
	if q.call >= 0 {
		d.evBuf = [8]byte{1}
		unix.Write(q.call, d.evBuf[:])
	}
}

// broken marks a queue malformed: it is left alone until the front end
// sets it up again, the error eventfd is signalled, and it is counted.
func (d *Device) broken(q *vring, why string) {
	q.state = ringBroken
	d.counters.RingErrors++
	if q.errFd >= 0 {
		d.evBuf = [8]byte{1}
		unix.Write(q.errFd, d.evBuf[:])
	}
	d.log.Warn("vhost-user: virtqueue malformed, stopped until reset", "queue", queueIndex(d, q), "why", why)
}

func queueIndex(d *Device, q *vring) int {
	if q == &d.q[rxQueue] {
		return rxQueue
	}
	return txQueue
}
