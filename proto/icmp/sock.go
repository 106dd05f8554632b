// SPDX-License-Identifier: GPL-2.0-or-later

package icmp

import (
	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/proto/l2"
)

// HandleSock reads echo replies from a flow's ping socket and sends them to
// the guest as frames: Ethernet from n.OurMAC to n.GuestMAC, IP from the
// address the guest pinged to the guest's address, the guest's echo
// identifier restored and the checksum recomputed. Mirrors
// icmp_sock_handler() in passt icmp.c.
func (h *Handler) HandleSock(ref flow.Ref, events uint32, now int64) {
	h.now = now
	idx := int(ref.Index)
	if ref.Kind != flow.KindPing || idx >= h.tbl.Len() || h.tbl.At(idx).fd != ref.Fd {
		return // stale event for a flow that has gone or moved
	}
	pf := h.tbl.At(idx)
	for range maxReadsPerEvent {
		if h.used == len(h.bufs) {
			return // out of frame buffers until End; epoll brings us back
		}
		buf := h.bufs[h.used]
		hdr, maxMsg := hdr4, maxMsg4
		if pf.v6 {
			hdr, maxMsg = hdr6, maxMsg6
		}
		n, salen, e := recvfrom(int(pf.fd), buf[hdr:hdr+maxMsg], &h.rsa)
		if e == unix.EAGAIN {
			return
		}
		if e != 0 {
			// A pending socket error (e.g. EHOSTUNREACH) is reported,
			// and cleared, by this read; try the next datagram.
			h.counts.RecvError++
			continue
		}
		if !h.replyOK(pf, buf[hdr:hdr+n], salen) {
			h.counts.DropReply++
			continue
		}
		m := h.buildReply(pf, buf, hdr, n)
		if m == 0 {
			h.counts.DropReply++
			continue
		}
		h.used++
		h.out[0] = buf[:m]
		h.tap.Send(h.out[:])
		h.out[0] = nil
		pf.replies++
		pf.toGuest += uint64(n)
		h.counts.Replies++
	}
}

// replyOK checks that a datagram read from pf's socket is an echo reply
// from the address the flow sends to.
func (h *Handler) replyOK(pf *pingFlow, msg []byte, salen uint32) bool {
	if len(msg) < l2.ICMPv4MinSize {
		return false
	}
	if pf.v6 {
		return msg[0] == l2.ICMPv6EchoReply && salen >= unix.SizeofSockaddrInet6 &&
			h.rsa.Family == unix.AF_INET6 && h.rsa.Addr == pf.host
	}
	sa := sockaddr4(&h.rsa)
	return msg[0] == l2.ICMPv4EchoReply && salen >= unix.SizeofSockaddrInet4 &&
		sa.Family == unix.AF_INET && sa.Addr == [4]byte(pf.host[:4])
}

// buildReply writes the Ethernet and IP headers in front of the n-byte
// ICMP message at buf[hdr:], restores the guest's identifier and fills in
// the checksums. It returns the frame length.
func (h *Handler) buildReply(pf *pingFlow, buf []byte, hdr, n int) int {
	icmp := l2.ICMPv4(buf[hdr : hdr+n])
	m := &h.msg
	*m = l2.ICMPMessage{
		Link:     l2.Link{SrcMAC: h.n.OurMAC, DstMAC: h.n.GuestMAC},
		Src:      flow.BytesAddr(&pf.remote, pf.v6),
		Dst:      flow.BytesAddr(&pf.guest, pf.v6),
		Type:     icmp.Type(),
		Code:     icmp.Code(),
		Ident:    pf.guestID,
		Sequence: icmp.Sequence(),
		Payload:  buf[hdr+l2.ICMPv4MinSize : hdr+n], // already in place
	}
	var size int
	if pf.v6 {
		size = l2.BuildICMPv6(buf, m)
	} else {
		size = l2.BuildICMPv4(buf, m)
	}
	m.Payload = nil
	return size
}
