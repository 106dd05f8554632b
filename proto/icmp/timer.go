// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"math"
	"net/netip"

	"golang.org/x/sys/unix"

	"gopasst/audit"
	"gopasst/flow"
	"gopasst/policy"
)

// End implements flow.Handler. The engine flushes the tap after it, so
// the reply frame buffers are free again for the next wake-up.
func (h *Handler) End(now int64) { h.used = 0 }

// Tick closes flows that saw no echo request from the guest for Timeout.
// It scans the table at most once a second. Mirrors icmp_ping_timer() in
// passt icmp.c.
func (h *Handler) Tick(now int64) {
	h.now = now
	if now-h.lastScan < scanInterval && now >= h.lastScan {
		return
	}
	h.lastScan = now
	// Downwards: closeFlow moves the last flow, already checked, into
	// the hole.
	for i := h.tbl.Len() - 1; i >= 0; i-- {
		if now-h.tbl.At(i).lastTap > Timeout {
			h.closeFlow(i)
			h.counts.Expired++
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

// closeFlow unregisters and closes flow idx and compacts the table,
// telling the poller the moved flow's new index.
func (h *Handler) closeFlow(idx int) {
	pf := h.tbl.At(idx)
	if h.gate != nil {
		h.gate.Close(policy.ProtoICMP, audit.Outbound, netip.AddrPortFrom(flow.BytesAddr(&pf.guest, pf.v6), pf.guestID),
			netip.AddrPortFrom(flow.BytesAddr(&pf.host, pf.v6), 0), pf.opened, h.now, pf.fromGuest, pf.toGuest)
	}
	fd := int(pf.fd)
	_ = h.poller.Del(fd)
	unix.Close(fd)
	if moved := h.tbl.Remove(idx); moved >= 0 {
		mfd := h.tbl.At(idx).fd
		ref := flow.Ref{Kind: flow.KindPing, Index: uint32(idx), Fd: mfd}
		if err := h.poller.Mod(int(mfd), unix.EPOLLIN, ref); err != nil {
			// Its events would carry a stale index and be ignored
			// while level-triggered epoll keeps reporting them.
			h.counts.SocketError++
			h.closeFlow(idx)
		}
	}
}
