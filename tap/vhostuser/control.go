// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"gopasst/tap"
)

// control reads and handles every message the front end has sent, until
// the socket has no more. An error ends the connection: tap.ErrClosed
// when the front end closed it, a protocol error otherwise.
func (d *Device) control() error {
	for {
		n, fds, err := d.readMessage()
		if err == unix.EAGAIN {
			return nil
		}
		if err != nil {
			closeFds(fds)
			return err
		}
		err = d.handle(d.msg[:n], fds)
		if err != nil {
			return err
		}
	}
}

// readMessage reads one message into d.msg and returns its length and the
// fds that came with it. EAGAIN: no message waits. The header is read
// without waiting; the rest of a begun message may wait a second
// (SO_RCVTIMEO).
func (d *Device) readMessage() (int, []int, error) {
	n, oobn, flags, _, err := unix.Recvmsg(d.conn, d.msg[:headerSize], d.oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
	if err == unix.EINTR {
		return 0, nil, unix.EAGAIN
	}
	if err != nil {
		if err == unix.EAGAIN {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("%w: %v", tap.ErrClosed, err)
	}
	if n == 0 {
		return 0, nil, tap.ErrClosed
	}
	var fds []int
	if oobn > 0 {
		fds, err = parseFds(d.oob[:oobn])
		if err != nil {
			return 0, fds, err
		}
	}
	if flags&(unix.MSG_CTRUNC) != 0 {
		return 0, fds, errors.New("vhost-user: more file descriptors than a message carries")
	}
	if n < headerSize {
		if err := d.readFull(d.msg[n:headerSize]); err != nil {
			return 0, fds, err
		}
	}
	size := Header(d.msg[:headerSize]).Size()
	if size > maxPayload {
		return 0, fds, fmt.Errorf("vhost-user: %v with a payload of %d bytes", Header(d.msg[:]).Request(), size)
	}
	if err := d.readFull(d.msg[headerSize : headerSize+int(size)]); err != nil {
		return 0, fds, err
	}
	return headerSize + int(size), fds, nil
}

// readFull reads exactly len(b) bytes (blocking, up to the timeout).
func (d *Device) readFull(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(d.conn, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("vhost-user: reading a message: %w", err)
		}
		if n == 0 {
			return tap.ErrClosed
		}
		b = b[n:]
	}
	return nil
}

// parseFds returns the descriptors of SCM_RIGHTS messages.
func parseFds(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("vhost-user: control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		r, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		fds = append(fds, r...)
	}
	return fds, nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// handle acts on one message. It owns fds: each is kept (kick, call and
// error eventfds) or closed (memory, once mapped; anything unexpected).
func (d *Device) handle(b []byte, fds []int) error {
	m, known, err := Parse(b, fds)
	if err != nil {
		closeFds(fds)
		return err
	}
	if !known {
		closeFds(fds)
		return fmt.Errorf("vhost-user: unsupported request %v", m.Header.Request())
	}
	r := m.Header.Request()
	var reply []byte // a request's own reply
	var fail error   // refused: the connection goes on (REPLY_ACK reports it)
	switch r {
	case ReqGetFeatures:
		reply = d.u64(Features)
	case ReqSetFeatures:
		if err := acked(&d.features, &m, Features); err != nil {
			return err
		}
		d.hdrLen = netHdrLegacySize
		if d.features&(1<<featMrgRxbuf|1<<featVersion1) != 0 {
			d.hdrLen = netHdrSize
		}
		for i := range d.q {
			d.q[i].eventIdx = d.features&(1<<featEventIdx) != 0
		}
	case ReqGetProtocolFeatures:
		reply = d.u64(ProtocolFeatures)
	case ReqSetProtocolFeatures:
		if err := acked(&d.protoFeatures, &m, ProtocolFeatures); err != nil {
			return err
		}
	case ReqGetQueueNum:
		reply = d.u64(numQueues / 2)
	case ReqSetOwner:
	case ReqResetOwner, ReqResetDevice:
		d.resetDevice()
	case ReqSetMemTable:
		fail = d.setMemTable(m)
		closeFds(fds)
	case ReqSetVringNum, ReqSetVringAddr, ReqSetVringBase, ReqSetVringEnable:
		fail = d.setVring(r, m.Payload)
	case ReqGetVringBase:
		st := VringState(m.Payload)
		q, err := d.queue(st.Index())
		if err != nil {
			return err
		}
		d.stopQueue(q)
		reply = d.vringState(st.Index(), uint32(q.lastAvail))
	case ReqSetVringKick, ReqSetVringCall, ReqSetVringErr:
		return d.setVringFd(r, &m)
	}
	if reply != nil {
		return d.send(r, reply)
	}
	if fail != nil {
		d.log.Warn(fail.Error())
	}
	return d.ack(&m, fail)
}

// acked stores the features a SET_FEATURES or SET_PROTOCOL_FEATURES
// acks, which must be among those offered.
func acked(dst *uint64, m *Message, offered uint64) error {
	v := m.U64()
	if v&^offered != 0 {
		return fmt.Errorf("vhost-user: %v %#x: features not offered", m.Header.Request(), v)
	}
	*dst = v
	return nil
}

// ack answers a request without a reply of its own, when the front end
// asked for one (REPLY_ACK): 0 for success, 1 for failure.
func (d *Device) ack(m *Message, fail error) error {
	if d.protoFeatures&(1<<protoFeatReplyAck) == 0 || !m.Header.NeedReply() {
		return nil
	}
	var v uint64
	if fail != nil {
		v = 1
	}
	return d.send(m.Header.Request(), d.u64(v))
}

// u64 returns a reply payload of one u64, in d.reply.
func (d *Device) u64(v uint64) []byte {
	p := d.reply[headerSize : headerSize+8]
	binary.LittleEndian.PutUint64(p, v)
	return p
}

// vringState returns a reply payload of a vhost_vring_state, in d.reply.
func (d *Device) vringState(index, num uint32) []byte {
	p := d.reply[headerSize : headerSize+vringStateSize]
	binary.LittleEndian.PutUint32(p[0:], index)
	binary.LittleEndian.PutUint32(p[4:], num)
	return p
}

// send writes the reply to request r with payload p (in d.reply).
func (d *Device) send(r Request, p []byte) error {
	msg := d.reply[:headerSize+len(p)]
	Header(msg).Set(r, flagVersion|flagReply, uint32(len(p)))
	for len(msg) > 0 {
		n, err := unix.SendmsgN(d.conn, msg, nil, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("vhost-user: reply to %v: %w", r, err)
		}
		msg = msg[n:]
	}
	return nil
}

// queue returns queue i, or an error for an index beyond one queue pair.
func (d *Device) queue(i uint32) (*vring, error) {
	if i >= numQueues {
		return nil, fmt.Errorf("vhost-user: queue %d: only %d queues", i, numQueues)
	}
	return &d.q[i], nil
}
