// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
)

// End implements flow.Handler: the datagrams from the guest still staged
// are sent, and the frame buffers are free again for the next wake-up
// (the engine flushes the tap right after).
func (h *Handler) End(now int64) {
	h.flush()
	h.used = 0
}

// Tick closes the flows idle for longer than their timeout: the stream
// timeout once datagrams went both ways, the short one otherwise. It scans
// the table at most once a second. Mirrors udp_flow_timer() in passt.
func (h *Handler) Tick(now int64) {
	h.now = now
	if now-h.lastScan < scanInterval && now >= h.lastScan {
		return
	}
	h.lastScan = now
	h.flush() // staged datagrams name flows by index
	// Downwards: closeFlow moves the last flow, already checked, into
	// the hole.
	for i := h.tbl.Len() - 1; i >= 0; i-- {
		fl := h.tbl.At(i)
		timeout := h.timeout
		if fl.seen == seenBoth {
			timeout = h.streamTimeout
		}
		if now-fl.lastActive > timeout {
			h.closeFlow(i)
			h.st.FlowsExpired++
		}
	}
}

// NextTick implements flow.Sleeper: the next scan while flows are open.
func (h *Handler) NextTick(now int64) int64 {
	if h.tbl.Len() == 0 {
		return math.MaxInt64
	}
	return h.lastScan + scanInterval
}

// closeFlow closes flow idx's socket, if it has one, and compacts the
// table, telling the poller the moved flow's new index. Nothing may be
// staged (see flush).
func (h *Handler) closeFlow(idx int) {
	if fl := h.tbl.At(idx); fl.gated {
		h.gateClose(fl)
	}
	if fd := int(h.tbl.At(idx).fd); fd >= 0 {
		_ = h.poller.Del(fd)
		unix.Close(fd)
	}
	if moved := h.tbl.Remove(idx); moved >= 0 {
		mfd := h.tbl.At(idx).fd
		if mfd < 0 {
			return
		}
		ref := flow.Ref{Kind: flow.KindUDP, Index: uint32(idx), Fd: mfd}
		if err := h.poller.Mod(int(mfd), unix.EPOLLIN, ref); err != nil {
			// Its events would carry a stale index and be ignored
			// while level-triggered epoll keeps reporting them.
			h.drop(DropSocket)
			h.closeFlow(idx)
		}
	}
}

// HostTimeouts returns the flow timeouts New would read from the host's
// conntrack sysctls (else the defaults), for Config.Timeout and
// Config.StreamTimeout of a handler made where /proc is unreachable (passt
// builds one per guest inside its sandbox).
func HostTimeouts() (timeout, stream time.Duration) {
	return time.Duration(readTimeout(timeoutPath, DefaultTimeout)),
		time.Duration(readTimeout(streamTimeoutPath, DefaultStreamTimeout))
}

// The host's conntrack UDP timeouts, in seconds.
const (
	timeoutPath       = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout"
	streamTimeoutPath = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream"
)

// readTimeout reads a conntrack timeout in seconds from a sysctl file and
// returns it in nanoseconds, or def.
func readTimeout(path string, def int64) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	s, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || s <= 0 {
		return def
	}
	return int64(s) * 1e9
}
