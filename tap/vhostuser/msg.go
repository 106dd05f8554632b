// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Header is a vhost-user message header at the start of a byte slice:
// request, flags and payload size, little-endian u32 each.
type Header []byte

// Request returns the request type.
func (h Header) Request() Request { return Request(binary.LittleEndian.Uint32(h[0:])) }

// Flags returns the flags word.
func (h Header) Flags() uint32 { return binary.LittleEndian.Uint32(h[4:]) }

// Size returns the payload size in bytes.
func (h Header) Size() uint32 { return binary.LittleEndian.Uint32(h[8:]) }

// NeedReply reports whether the front end asked for an ack (REPLY_ACK).
func (h Header) NeedReply() bool { return h.Flags()&flagNeedReply != 0 }

// Set writes a header.
func (h Header) Set(r Request, flags, size uint32) {
	binary.LittleEndian.PutUint32(h[0:], uint32(r))
	binary.LittleEndian.PutUint32(h[4:], flags)
	binary.LittleEndian.PutUint32(h[8:], size)
}

// Payload views. Each is checked for its size by the parser.

// VringState is struct vhost_vring_state: the queue index and a number
// (the size for SET_VRING_NUM, the next available index for
// SET/GET_VRING_BASE, 0/1 for SET_VRING_ENABLE).
type VringState []byte

const vringStateSize = 8

// Index returns the queue index.
func (v VringState) Index() uint32 { return binary.LittleEndian.Uint32(v[0:]) }

// Num returns the number.
func (v VringState) Num() uint32 { return binary.LittleEndian.Uint32(v[4:]) }

// VringAddr is struct vhost_vring_addr: where the front end's process
// sees the three parts of a split ring (its virtual addresses).
type VringAddr []byte

const vringAddrSize = 40

// Index returns the queue index.
func (v VringAddr) Index() uint32 { return binary.LittleEndian.Uint32(v[0:]) }

// Flags returns the flags (VHOST_VRING_F_LOG: unused here).
func (v VringAddr) Flags() uint32 { return binary.LittleEndian.Uint32(v[4:]) }

// Desc returns the descriptor table's address.
func (v VringAddr) Desc() uint64 { return binary.LittleEndian.Uint64(v[8:]) }

// Used returns the used ring's address.
func (v VringAddr) Used() uint64 { return binary.LittleEndian.Uint64(v[16:]) }

// Avail returns the available ring's address.
func (v VringAddr) Avail() uint64 { return binary.LittleEndian.Uint64(v[24:]) }

// MemRegion is struct vhost_user_memory_region: a piece of guest memory,
// its guest-physical address, size, the front end's virtual address, and
// the offset of its start in the file descriptor passed along.
type MemRegion []byte

const memRegionSize = 32

// GuestPhysAddr returns the region's guest-physical start.
func (m MemRegion) GuestPhysAddr() uint64 { return binary.LittleEndian.Uint64(m[0:]) }

// MemorySize returns the region's size in bytes.
func (m MemRegion) MemorySize() uint64 { return binary.LittleEndian.Uint64(m[8:]) }

// UserAddr returns the region's start in the front end's address space.
func (m MemRegion) UserAddr() uint64 { return binary.LittleEndian.Uint64(m[16:]) }

// MmapOffset returns the offset of the region in its file.
func (m MemRegion) MmapOffset() uint64 { return binary.LittleEndian.Uint64(m[24:]) }

// MemTable is struct vhost_user_memory: a count, padding, and the regions.
type MemTable []byte

// NRegions returns the region count.
func (m MemTable) NRegions() uint32 { return binary.LittleEndian.Uint32(m[0:]) }

// Region returns region i.
func (m MemTable) Region(i int) MemRegion { return MemRegion(m[8+i*memRegionSize:][:memRegionSize]) }

// Message is one parsed front-end message: its header, its payload (within
// the limits of its request type) and the fds that came with it.
type Message struct {
	Header  Header
	Payload []byte
	Fds     []int
}

// U64 returns the payload as a u64 (features, SET_VRING_KICK/CALL/ERR).
func (m *Message) U64() uint64 { return binary.LittleEndian.Uint64(m.Payload) }

// Errors of Parse.
var (
	errShort   = errors.New("vhost-user: message shorter than its header")
	errVersion = errors.New("vhost-user: unsupported protocol version")
	errReply   = errors.New("vhost-user: a reply sent to the back end")
	errSize    = errors.New("vhost-user: payload size does not match the request")
	errFds     = errors.New("vhost-user: file descriptors where the request takes none, or too many")
)

// payloadSize gives, for each request a virtio-net front end sends, the
// payload it must carry: exact sizes, or for SET_MEM_TABLE a minimum
// checked further by ParseMemTable. Requests not here are refused.
var payloadSize = map[Request]struct {
	min, max int
	fds      int // how many fds it may carry at most
}{
	ReqGetFeatures:         {0, 0, 0},
	ReqSetFeatures:         {8, 8, 0},
	ReqSetOwner:            {0, 0, 0},
	ReqResetOwner:          {0, 0, 0},
	ReqSetMemTable:         {8, 8 + maxRegions*memRegionSize, maxRegions},
	ReqSetVringNum:         {vringStateSize, vringStateSize, 0},
	ReqSetVringAddr:        {vringAddrSize, vringAddrSize, 0},
	ReqSetVringBase:        {vringStateSize, vringStateSize, 0},
	ReqGetVringBase:        {vringStateSize, vringStateSize, 0},
	ReqSetVringKick:        {8, 8, 1},
	ReqSetVringCall:        {8, 8, 1},
	ReqSetVringErr:         {8, 8, 1},
	ReqGetProtocolFeatures: {0, 0, 0},
	ReqSetProtocolFeatures: {8, 8, 0},
	ReqGetQueueNum:         {0, 0, 0},
	ReqSetVringEnable:      {vringStateSize, vringStateSize, 0},
	ReqSendRARP:            {8, 8, 0},
	ReqNetSetMTU:           {8, 8, 0},
	ReqResetDevice:         {0, 0, 0},
}

// Parse checks a message read from the front end: b is the header and the
// payload, fds the descriptors that came with it. It checks the version,
// that it is a request, and the payload size and fd count against the
// request type; it does not look inside the payload. An unknown request
// parses (so that it can be answered) with ok false.
func Parse(b []byte, fds []int) (m Message, known bool, err error) {
	if len(b) < headerSize {
		return m, false, errShort
	}
	h := Header(b[:headerSize])
	if h.Flags()&flagVersionMk != flagVersion {
		return m, false, errVersion
	}
	if h.Flags()&flagReply != 0 {
		return m, false, errReply
	}
	if uint64(h.Size()) != uint64(len(b)-headerSize) {
		return m, false, errSize
	}
	m = Message{Header: h, Payload: b[headerSize:], Fds: fds}
	lim, known := payloadSize[h.Request()]
	if !known {
		return m, false, nil
	}
	if len(m.Payload) < lim.min || len(m.Payload) > lim.max {
		return m, true, fmt.Errorf("%w: %v with %d bytes", errSize, h.Request(), len(m.Payload))
	}
	if len(fds) > lim.fds {
		return m, true, fmt.Errorf("%w: %v with %d", errFds, h.Request(), len(fds))
	}
	return m, true, nil
}

// ParseMemTable checks a SET_MEM_TABLE payload: the region count within
// both the limit and the payload, and one fd per region.
func ParseMemTable(p []byte, nfds int) (MemTable, error) {
	t := MemTable(p)
	n := t.NRegions()
	if n == 0 || n > maxRegions {
		return nil, fmt.Errorf("vhost-user: memory table with %d regions", n)
	}
	if len(p) < 8+int(n)*memRegionSize {
		return nil, fmt.Errorf("vhost-user: memory table of %d regions in %d bytes", n, len(p))
	}
	if nfds != int(n) {
		return nil, fmt.Errorf("vhost-user: memory table of %d regions with %d fds", n, nfds)
	}
	return t, nil
}

// String returns the request's name as in the spec.
func (r Request) String() string {
	if s, ok := requestNames[r]; ok {
		return s
	}
	return fmt.Sprintf("request %d", uint32(r))
}

var requestNames = map[Request]string{
	ReqGetFeatures: "GET_FEATURES", ReqSetFeatures: "SET_FEATURES", ReqSetOwner: "SET_OWNER",
	ReqResetOwner: "RESET_OWNER", ReqSetMemTable: "SET_MEM_TABLE", ReqSetLogBase: "SET_LOG_BASE",
	ReqSetLogFd: "SET_LOG_FD", ReqSetVringNum: "SET_VRING_NUM", ReqSetVringAddr: "SET_VRING_ADDR",
	ReqSetVringBase: "SET_VRING_BASE", ReqGetVringBase: "GET_VRING_BASE", ReqSetVringKick: "SET_VRING_KICK",
	ReqSetVringCall: "SET_VRING_CALL", ReqSetVringErr: "SET_VRING_ERR",
	ReqGetProtocolFeatures: "GET_PROTOCOL_FEATURES", ReqSetProtocolFeatures: "SET_PROTOCOL_FEATURES",
	ReqGetQueueNum: "GET_QUEUE_NUM", ReqSetVringEnable: "SET_VRING_ENABLE", ReqSendRARP: "SEND_RARP",
	ReqNetSetMTU: "NET_SET_MTU", ReqSetBackendReqFd: "SET_BACKEND_REQ_FD", ReqResetDevice: "RESET_DEVICE",
	ReqGetMaxMemSlots: "GET_MAX_MEM_SLOTS", ReqAddMemReg: "ADD_MEM_REG", ReqRemMemReg: "REM_MEM_REG",
	ReqSetStatus: "SET_STATUS", ReqGetStatus: "GET_STATUS",
}
