// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Default socket paths, as passt's sock_unix(): the first free one of
// /tmp/passt_1.socket ... /tmp/passt_64.socket.
const (
	defaultSocketFmt = "/tmp/passt_%d.socket"
	maxDefaultSocket = 64
	listenBacklog    = 1 // one guest at a time, as passt
)

// errInUse: another server is listening on the path.
var errInUse = errors.New("in use by another process")

// listenUnix binds and listens on path, or on the first free default path
// when path is empty. A stale socket file (nobody accepts on it) is
// replaced, as passt does; a live one is not.
func listenUnix(path string) (*os.File, string, error) {
	if path != "" {
		f, err := tryListen(path)
		if err != nil {
			return nil, "", fmt.Errorf("UNIX socket %s: %w", path, err)
		}
		return f, path, nil
	}
	for i := 1; i <= maxDefaultSocket; i++ {
		p := fmt.Sprintf(defaultSocketFmt, i)
		f, err := tryListen(p)
		if err == nil {
			return f, p, nil
		}
		if !errors.Is(err, errInUse) {
			return nil, "", fmt.Errorf("UNIX socket %s: %w", p, err)
		}
	}
	return nil, "", fmt.Errorf("no free UNIX socket path among "+defaultSocketFmt+" to %d", 1, maxDefaultSocket)
}

func tryListen(path string) (*os.File, error) {
	sa := &unix.SockaddrUnix{Name: path}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	err = unix.Bind(fd, sa)
	if err == unix.EADDRINUSE {
		if live(sa) {
			unix.Close(fd)
			return nil, errInUse
		}
		os.Remove(path)
		err = unix.Bind(fd, sa)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, fmt.Errorf("listen: %w", err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// live reports whether a server accepts connections at sa.
func live(sa *unix.SockaddrUnix) bool {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return true // cannot tell: do not steal the path
	}
	defer unix.Close(fd)
	err = unix.Connect(fd, sa)
	return err == nil || (err != unix.ECONNREFUSED && err != unix.ENOENT)
}

// connectedFd checks that -F fd is a connected stream socket and returns
// it as a file.
func connectedFd(fd int) (*os.File, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("--fd %d: not a socket: %w", fd, err)
	}
	if typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("--fd %d: not a stream socket", fd)
	}
	return os.NewFile(uintptr(fd), "guest"), nil
}

// guestSockBuf is the send and receive buffer asked for on the guest's
// connection. The default (net.core.wmem_default, ~208 KiB) holds only
// three frames of a 65520-byte MTU: the engine would find the socket full
// and drop frames (tap_full) while qemu is still draining it.
const guestSockBuf = 16 << 20

// growBuffers enlarges the socket buffers of the guest's connection: with
// SO_SNDBUFFORCE/SO_RCVBUFFORCE when privileged (root's launcher, for the
// connection of -F), else within net.core.[rw]mem_max (the sandboxed
// process, for accepted connections). Failure is not fatal.
func growBuffers[T *os.File | int](c T) {
	set := func(fd int) {
		for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
			if unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], guestSockBuf) != nil {
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], guestSockBuf)
			}
		}
	}
	switch c := any(c).(type) {
	case int:
		set(c)
	case *os.File:
		if rc, err := c.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { set(int(fd)) })
		}
	}
}

// qemuHint is what passt prints once the socket is bound: the qemu
// options for the stream socket, or (vhostUser) upstream's line for a
// vhost-user netdev on guest memory qemu shares.
func qemuHint(path string, vhostUser bool) string {
	if vhostUser {
		return "UNIX domain socket bound at " + path + "\n\n" +
			"You can start qemu with:\n" +
			"    kvm ... -chardev socket,id=chr0,path=" + path +
			" -netdev vhost-user,id=netdev0,chardev=chr0 -device virtio-net,netdev=netdev0" +
			" -object memory-backend-memfd,id=memfd0,share=on,size=$RAMSIZE -numa node,memdev=memfd0\n"
	}
	return "UNIX domain socket bound at " + path + "\n\n" +
		"You can now start qemu (>= 7.2, with commit 13c6be96618c):\n" +
		"    kvm ... -netdev stream,id=s,server=off,addr.type=unix,addr.path=" + path +
		" -device virtio-net-pci,netdev=s\n"
}
