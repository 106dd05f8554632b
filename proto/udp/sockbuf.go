// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import "golang.org/x/sys/unix"

// sockBuf is the receive and send buffer asked for on listeners and flow
// sockets: passt's SNDBUF_BIG. The kernel caps the request at
// net.core.rmem_max and wmem_max (212992 bytes unless raised) and then
// doubles it for its bookkeeping. A -u listener takes every client's
// datagrams while the guest drains them through the tap; with the
// default buffer, bursts at 1 Gbit/s of 1400-byte datagrams overflow it
// (UdpRcvbufErrors) whenever the event loop is not scheduled for ~2 ms.
// The memory is charged only while datagrams are queued.
const sockBuf = 4 << 20

// setBufs asks for sockBuf bytes of receive and send buffer. A failure
// leaves the default, which works, only with less room for bursts.
func setBufs(fd int) {
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, sockBuf)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuf)
}
