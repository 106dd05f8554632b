// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

// Specification: the vhost-user protocol (qemu docs/interop/vhost-user.rst)
// and virtio 1.x (split virtqueues, virtio-net).

// Request is a vhost-user front-end request type.
type Request uint32

// The requests a virtio-net front end sends (vhost-user.rst, "Front-end
// message types"). Names as in the spec, without the VHOST_USER_ prefix.
const (
	ReqGetFeatures         Request = 1
	ReqSetFeatures         Request = 2
	ReqSetOwner            Request = 3
	ReqResetOwner          Request = 4
	ReqSetMemTable         Request = 5
	ReqSetLogBase          Request = 6
	ReqSetLogFd            Request = 7
	ReqSetVringNum         Request = 8
	ReqSetVringAddr        Request = 9
	ReqSetVringBase        Request = 10
	ReqGetVringBase        Request = 11
	ReqSetVringKick        Request = 12
	ReqSetVringCall        Request = 13
	ReqSetVringErr         Request = 14
	ReqGetProtocolFeatures Request = 15
	ReqSetProtocolFeatures Request = 16
	ReqGetQueueNum         Request = 17
	ReqSetVringEnable      Request = 18
	ReqSendRARP            Request = 19
	ReqNetSetMTU           Request = 20
	ReqSetBackendReqFd     Request = 21
	ReqResetDevice         Request = 34
	ReqGetMaxMemSlots      Request = 36
	ReqAddMemReg           Request = 37
	ReqRemMemReg           Request = 38
	ReqSetStatus           Request = 39
	ReqGetStatus           Request = 40
)

// Message header flags (vhost-user.rst, "Header").
const (
	flagVersion   = 0x1      // the protocol version, in the low two bits
	flagVersionMk = 0x3      // mask of the version bits
	flagReply     = 1 << 2   // this is a reply
	flagNeedReply = 1 << 3   // REPLY_ACK: the sender wants an ack
	headerSize    = 12       // request, flags, size: three little-endian u32
	maxPayload    = 8 + 8*32 // the largest payload accepted: a memory table of 8 regions (with room to spare)
	maxFds        = 8        // VHOST_MEMORY_BASELINE_NREGIONS: fds per message
	maxRegions    = 8        // regions in a SET_MEM_TABLE (and ADD_MEM_REG slots)
	vringFdNoFd   = 1 << 8   // SET_VRING_KICK/CALL/ERR: no fd is passed (polling)
	vringIdxMask  = 0xff     // SET_VRING_KICK/CALL/ERR: the queue index
)

// Feature bits (virtio 1.x §5.1.3, §6; vhost-user.rst).
const (
	featCsum             = 0  // VIRTIO_NET_F_CSUM: the driver may leave checksums partial
	featGuestCsum        = 1  // VIRTIO_NET_F_GUEST_CSUM: the driver takes DATA_VALID
	featMrgRxbuf         = 15 // VIRTIO_NET_F_MRG_RXBUF
	featStatus           = 16 // VIRTIO_NET_F_STATUS (not offered)
	featIndirectDesc     = 28 // VIRTIO_RING_F_INDIRECT_DESC (not offered)
	featEventIdx         = 29 // VIRTIO_RING_F_EVENT_IDX
	featProtocolFeatures = 30 // VHOST_USER_F_PROTOCOL_FEATURES
	featVersion1         = 32 // VIRTIO_F_VERSION_1
)

// Protocol feature bits (vhost-user.rst, "Protocol features").
const (
	protoFeatMQ       = 0 // VHOST_USER_PROTOCOL_F_MQ (not offered: one queue pair)
	protoFeatReplyAck = 3 // VHOST_USER_PROTOCOL_F_REPLY_ACK
)

// Implementation.
const (
	// Features is what GET_FEATURES offers: one virtio-net queue pair,
	// mergeable receive buffers, virtio 1.x, the protocol features
	// message, and two checksum offloads. GUEST_CSUM: every frame to the
	// guest carries correct checksums, which the header says
	// (DATA_VALID), so the guest need not check them again. CSUM: the
	// guest may leave the checksum of what it sends partial; the device
	// finishes it, except TCP's, which nothing here reads. And the event
	// index: the guest says after which used entry it wants an interrupt,
	// the device after which available entry it wants a kick, so that
	// neither interrupts the other for every frame. No segmentation
	// offloads, no indirect descriptors.
	Features = 1<<featCsum | 1<<featGuestCsum | 1<<featMrgRxbuf | 1<<featEventIdx | 1<<featProtocolFeatures | 1<<featVersion1

	// ProtocolFeatures is what GET_PROTOCOL_FEATURES offers.
	ProtocolFeatures = 1 << protoFeatReplyAck

	// numQueues: queue 0 receives (frames to the guest), queue 1
	// transmits (frames from the guest).
	numQueues = 2
	rxQueue   = 0
	txQueue   = 1

	// maxQueueSize is the largest split virtqueue (virtio 1.x §2.7: the
	// queue size is a power of two, at most 32768).
	maxQueueSize = 32768

	// netHdrSize is the virtio-net header with VERSION_1 or MRG_RXBUF
	// (struct virtio_net_hdr_mrg_rxbuf); netHdrLegacySize without both.
	netHdrSize       = 12
	netHdrLegacySize = 10
	netHdrNumBuffers = 10 // offset of num_buffers
	netHdrFDataValid = 2  // VIRTIO_NET_HDR_F_DATA_VALID, in the first byte (flags)

	// maxChain bounds a descriptor chain walk, whatever the queue size:
	// a frame of 64 KiB in 4 KiB pages is 17 descriptors.
	maxChain = 1024
)
