// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import "time"

// Specification (RFC 9293, RFC 7323, RFC 6928).
const (
	// defaultMSS is what a peer that sends no MSS option is assumed to take
	// (RFC 9293 section 3.7.1).
	defaultMSS = 536
	// initialWindow is the window offered before anything is known of the
	// host socket (RFC 6928: 10 segments of 1460 bytes).
	initialWindow = 14600
	// minMSS and maxMSSOpt bound what TCP_MAXSEG accepts on Linux.
	minMSS    = 88
	maxMSSOpt = 32767
)

// Implementation: sizes.
const (
	// batchFrames is the number of data frames towards the guest per
	// wake-up, as passt's TCP_FRAMES_MEM and wireguard-go's IdealBatchSize.
	batchFrames = 128
	// maxPeeks bounds the batches one connection sends per call of
	// sockToTap (flushing the tap in between when the frames run out):
	// 16 batches are 2048 frames, 3 MB at MTU 1500.
	maxPeeks = 16
	// ctlFrames is the number of control frames (SYN, ACK, FIN, RST)
	// towards the guest per wake-up.
	ctlFrames = 256
	// ctlFrameSize holds Ethernet, IPv6 and a TCP header with options.
	ctlFrameSize = 14 + 40 + 60
	// wsToTap is the window scale we offer the guest: a window of up to
	// 16 MiB for data from the guest, as in passt.
	wsToTap = 8
	// maxWindowToTap is the largest window we advertise to the guest.
	maxWindowToTap = 0xffff << wsToTap
	// discardWindow bounds the bytes in flight to the guest when the
	// kernel has no SO_PEEK_OFF for TCP (before 6.10, Debian 12's 6.1):
	// every peek then starts at the head and copies those bytes again,
	// into a discard buffer of this size. A peek waits until no more
	// than half of it is in flight, so it copies at most as many old
	// bytes as it may send new ones. Unbounded, a window of megabytes
	// made each 64 KiB sent cost a 16 MiB copy (0.4 Gbit/s), and a
	// window beyond the buffer would have overrun it.
	discardWindow = 2 << 20
	// sndbufWanted is the send buffer asked for on every host socket; the
	// kernel caps it at net.core.wmem_max unless SO_SNDBUFFORCE works.
	sndbufWanted = 32 << 20
	// wndLowMargin covers the rounding between the window formula of
	// windowToTap and the kernel's test for a writable socket.
	wndLowMargin = 1 << 10
	// defaultMTU is the tap MTU assumed when guest.Net gives none.
	defaultMTU = 65520
	// maxRetrans is the number of ACK timeouts in a row before a reset.
	maxRetrans = 7
	// dupAckThreshold is the number of duplicate ACKs from the guest that
	// make us resend from its acknowledged sequence (passt uses 2 too).
	dupAckThreshold = 2
	// initialCapacity is the size the connection table starts at; it
	// doubles when full, up to Config.Capacity.
	initialCapacity = 1 << 8
	// maxCapacity is the largest table allowed (a flow.Ref index could
	// address 1<<24), and the limit without a flow budget.
	maxCapacity = 1 << 17
)

// Implementation: timers, in nanoseconds of the monotonic clock.
const (
	ackInterval = int64(50 * time.Millisecond)
	synTimeout  = int64(10 * time.Second)
	ackTimeout  = int64(2 * time.Second)
	finTimeout  = int64(60 * time.Second)
	actTimeout  = int64(7200 * time.Second)
)
