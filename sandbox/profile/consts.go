// SPDX-License-Identifier: GPL-2.0-or-later

package profile

// Constants are the symbolic values seccomp.profile may use in conditions.
// They are Linux amd64 values; the few that differ on other architectures
// (the ioctl requests) must be revisited when a profile for another
// architecture is added.
var Constants = map[string]uint64{
	// socket(2) domains.
	"AF_UNIX":    1,
	"AF_INET":    2,
	"AF_INET6":   10,
	"AF_NETLINK": 16,
	"AF_PACKET":  17,

	// netlink protocols.
	"NETLINK_ROUTE": 0,

	// ioctl(2) requests (asm-generic values, as on amd64).
	"SIOCOUTQ": 0x5411, // = TIOCOUTQ: bytes not yet acknowledged
	"SIOCINQ":  0x541b, // = FIONREAD: bytes ready to read
	"FIONREAD": 0x541b,
	"FIONBIO":  0x5421,

	// fcntl(2) commands.
	"F_GETFD":      1,
	"F_SETFD":      2,
	"F_GETFL":      3,
	"F_SETFL":      4,
	"F_SETPIPE_SZ": 1031,
	"F_GETPIPE_SZ": 1032,

	// futex(2) operations.
	"FUTEX_WAIT":         0,
	"FUTEX_WAKE":         1,
	"FUTEX_WAIT_PRIVATE": 128,
	"FUTEX_WAKE_PRIVATE": 129,

	// prctl(2) options.
	"PR_SET_VMA": 0x53564d41,
}
