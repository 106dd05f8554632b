// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setMemTable maps the guest's memory anew and translates the rings
// through it. The fds are the caller's to close.
func (d *Device) setMemTable(m Message) error {
	t, err := ParseMemTable(m.Payload, len(m.Fds))
	if err != nil {
		return err
	}
	if err := d.mem.set(t, m.Fds); err != nil {
		return err
	}
	for i := range d.q {
		d.q[i].translate(&d.mem)
	}
	return nil
}

// setVring handles SET_VRING_NUM, _ADDR, _BASE and _ENABLE. An error
// refuses the request (REPLY_ACK reports it); the connection goes on.
func (d *Device) setVring(r Request, p []byte) error {
	var index uint32
	if r == ReqSetVringAddr {
		index = VringAddr(p).Index()
	} else {
		index = VringState(p).Index()
	}
	q, err := d.queue(index)
	if err != nil {
		return err
	}
	switch r {
	case ReqSetVringNum:
		n := VringState(p).Num()
		if n == 0 || n > maxQueueSize || n&(n-1) != 0 {
			return fmt.Errorf("vhost-user: queue %d: size %d is not a power of two up to %d", index, n, maxQueueSize)
		}
		q.size = uint16(n)
		q.translate(&d.mem)
	case ReqSetVringAddr:
		a := VringAddr(p)
		q.addrDesc, q.addrAvail, q.addrUsed, q.addrSet = a.Desc(), a.Avail(), a.Used(), true
		if !q.translate(&d.mem) {
			return fmt.Errorf("vhost-user: queue %d: ring addresses outside guest memory or misaligned", index)
		}
		// Where the guest's view of the used ring stands (a reconnection
		// picks up there).
		_, q.usedIdx = loadWord16(q.used, 0)
		q.staged = 0
	case ReqSetVringBase:
		n := VringState(p).Num()
		if n > 0xffff {
			return fmt.Errorf("vhost-user: queue %d: base %d beyond a 16-bit index", index, n)
		}
		q.lastAvail = uint16(n)
	case ReqSetVringEnable:
		q.enabled = VringState(p).Num() != 0
	}
	return nil
}

// setVringFd handles SET_VRING_KICK, _CALL and _ERR: the eventfd that
// came with it, or none (the "no fd" flag) replaces the queue's.
func (d *Device) setVringFd(r Request, m *Message) error {
	v := m.U64()
	fd := -1
	switch {
	case v&vringFdNoFd != 0 && len(m.Fds) == 0:
	case v&vringFdNoFd == 0 && len(m.Fds) == 1:
		fd = m.Fds[0]
	default:
		closeFds(m.Fds)
		return fmt.Errorf("vhost-user: %v with %d fds and flags %#x", r, len(m.Fds), v)
	}
	if v&^uint64(vringIdxMask|vringFdNoFd) != 0 {
		closeFds(m.Fds)
		return fmt.Errorf("vhost-user: %v: unknown bits in %#x", r, v)
	}
	q, err := d.queue(uint32(v & vringIdxMask))
	if err != nil {
		closeFds(m.Fds)
		return err
	}
	switch r {
	case ReqSetVringKick:
		d.closeKick(q)
		if fd >= 0 {
			if err := d.watch(fd); err != nil {
				unix.Close(fd)
				return fmt.Errorf("vhost-user: watching the kick eventfd: %w", err)
			}
		}
		q.kick = fd
		q.state = ringStarted
		if d.features&(1<<featProtocolFeatures) == 0 {
			q.enabled = true
		}
	case ReqSetVringCall:
		closeFd(&q.call)
		q.call = fd
	case ReqSetVringErr:
		closeFd(&q.errFd)
		q.errFd = fd
	}
	return d.ack(m, nil)
}

// stopQueue stops a queue (GET_VRING_BASE, reset, close): its eventfds
// are closed; its size, addresses and indices stay for a restart.
func (d *Device) stopQueue(q *vring) {
	d.closeKick(q)
	closeFd(&q.call)
	closeFd(&q.errFd)
	q.state = ringStopped
	q.enabled = false
	q.staged = 0
	if q == &d.q[rxQueue] {
		d.backlog.clear() // the guest stops (or reboots): its frames are stale
	}
}

// resetDevice returns the device to its state after the connection:
// queues stopped and forgotten, memory unmapped, features cleared.
func (d *Device) resetDevice() {
	for i := range d.q {
		d.stopQueue(&d.q[i])
		d.q[i].reset()
	}
	d.mem.unmap()
	d.features, d.hdrLen = 0, netHdrLegacySize
}

func (d *Device) closeKick(q *vring) {
	if q.kick >= 0 {
		unix.EpollCtl(d.ep, unix.EPOLL_CTL_DEL, q.kick, nil)
		closeFd(&q.kick)
	}
}

func closeFd(fd *int) {
	if *fd >= 0 {
		unix.Close(*fd)
		*fd = -1
	}
}
