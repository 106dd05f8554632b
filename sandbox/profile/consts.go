// SPDX-License-Identifier: GPL-2.0-or-later

package profile

// Constants are the symbolic values seccomp.profile may use in conditions,
// with their asm-generic values (amd64, arm64, arm, 386, s390x, riscv64,
// loong64). ArchConstants overrides those that differ on an architecture.
var Constants = map[string]uint64{
	// socket(2) domains.
	"AF_UNIX":    1,
	"AF_INET":    2,
	"AF_INET6":   10,
	"AF_NETLINK": 16,
	"AF_PACKET":  17,

	// netlink protocols.
	"NETLINK_ROUTE": 0,

	// ioctl(2) requests.
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

	// socketcall(2) calls (linux/net.h), the first argument of the
	// multiplexer i386 Go code uses for sockets.
	"SYS_SOCKET":      1,
	"SYS_BIND":        2,
	"SYS_CONNECT":     3,
	"SYS_LISTEN":      4,
	"SYS_ACCEPT":      5,
	"SYS_GETSOCKNAME": 6,
	"SYS_GETPEERNAME": 7,
	"SYS_SOCKETPAIR":  8,
	"SYS_SEND":        9,
	"SYS_RECV":        10,
	"SYS_SENDTO":      11,
	"SYS_RECVFROM":    12,
	"SYS_SHUTDOWN":    13,
	"SYS_SETSOCKOPT":  14,
	"SYS_GETSOCKOPT":  15,
	"SYS_SENDMSG":     16,
	"SYS_RECVMSG":     17,
	"SYS_ACCEPT4":     18,
	"SYS_RECVMMSG":    19,
	"SYS_SENDMMSG":    20,
}

// ArchConstants are the values of Constants that differ on an
// architecture: the terminal and socket ioctls of powerpc and mips.
var ArchConstants = map[string]map[string]uint64{
	"ppc64le": {
		"SIOCOUTQ": 0x40047473, // _IOR('t', 115, int)
		"SIOCINQ":  0x4004667f, // _IOR('f', 127, int)
		"FIONREAD": 0x4004667f,
		"FIONBIO":  0x8004667e, // _IOW('f', 126, int)
	},
	"mips64le": {
		"SIOCOUTQ": 0x7472,
		"SIOCINQ":  0x467f,
		"FIONREAD": 0x467f,
		"FIONBIO":  0x667e,
	},
}

// constant returns the value of a symbolic constant on arch ("" for the
// generic value).
func constant(name, arch string) (uint64, bool) {
	if v, ok := ArchConstants[arch][name]; ok {
		return v, true
	}
	v, ok := Constants[name]
	return v, ok
}
