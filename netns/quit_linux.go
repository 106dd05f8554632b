// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// QuitWatcher tells when the target namespace goes away, so that a pasta
// attached to it exits (unless --no-netns-quit). For a process (pasta PID,
// or a --netns path under /proc/PID/) it holds a pidfd, readable once the
// process exits; for a namespace file elsewhere (ip netns add's
// /run/netns/NAME), an inotify descriptor on its directory, readable when
// entries are deleted or the directory goes away. Mirrors pasta_netns_quit_init()
// in passt pasta.c, with a pidfd instead of a timer on /proc/PID.
//
// Fd can be polled (EPOLLIN); when it is readable, call Check. Done
// offers the same as a channel (pasta uses Done). A QuitWatcher is
// not safe for concurrent use; use either Fd and Check, or Done.
type QuitWatcher struct {
	fd   int
	path string // inotify: the namespace file
	name string // inotify: its base name
	pid  bool   // fd is a pidfd
	gone bool   // already found gone
	buf  []byte // inotify events
}

// WatchQuit returns a watcher for the target in p, or nil if there is
// nothing to watch (a spawned command: pasta waits for it instead).
func WatchQuit(p Paths) (*QuitWatcher, error) {
	switch {
	case p.Spawn():
		return nil, nil
	case p.PID > 0:
		fd, err := unix.PidfdOpen(p.PID, 0)
		if err != nil {
			return nil, fmt.Errorf("pidfd_open %d: %w", p.PID, err)
		}
		unix.CloseOnExec(fd)
		return &QuitWatcher{fd: fd, pid: true}, nil
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	dir := filepath.Dir(p.Net)
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	q := &QuitWatcher{fd: fd, path: p.Net, name: filepath.Base(p.Net), buf: make([]byte, 4096)}
	// Deleted before the watch was in place?
	if !exists(p.Net) {
		q.gone = true
	}
	return q, nil
}

// Fd returns the descriptor to poll for EPOLLIN.
func (q *QuitWatcher) Fd() int { return q.fd }

// Check drains pending events and reports whether the target is gone. It
// never blocks.
func (q *QuitWatcher) Check() bool {
	if q.gone {
		return true
	}
	if q.pid {
		fds := []unix.PollFd{{Fd: int32(q.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		q.gone = err == nil && n > 0 && fds[0].Revents != 0
		return q.gone
	}
	for {
		n, err := unix.Read(q.fd, q.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		if q.goneIn(q.buf[:n]) {
			q.gone = true
		}
	}
	return q.gone
}

// goneIn reports whether the inotify events in b say the namespace file is
// gone: removed or renamed away (IN_DELETE, IN_MOVED_FROM with its name),
// or its directory is (IN_DELETE_SELF, IN_MOVE_SELF, IN_UNMOUNT). As
// passt's netns_quit_inotify_handler it goes by the events alone: after
// sandbox.Enter the root is empty and no path resolves (and stat is not in
// the filter), so the file cannot be looked up.
func (q *QuitWatcher) goneIn(b []byte) bool {
	const dirGone = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_UNMOUNT
	for len(b) >= unix.SizeofInotifyEvent {
		mask := binary.NativeEndian.Uint32(b[4:8])
		nameLen := int(binary.NativeEndian.Uint32(b[12:16]))
		end := unix.SizeofInotifyEvent + nameLen
		if nameLen < 0 || end > len(b) {
			return false // truncated: the kernel never does this
		}
		name := b[unix.SizeofInotifyEvent:end]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if mask&dirGone != 0 || mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0 && string(name) == q.name {
			return true
		}
		b = b[end:]
	}
	return false
}

// Done returns a channel closed once the target is gone. It starts a
// goroutine that blocks in poll(2) on Fd.
func (q *QuitWatcher) Done() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		fds := []unix.PollFd{{Fd: int32(q.fd), Events: unix.POLLIN}}
		for !q.Check() {
			fds[0].Revents = 0
			if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
				return
			}
		}
	}()
	return ch
}

// Close closes the descriptor.
func (q *QuitWatcher) Close() error {
	if q.fd < 0 {
		return nil
	}
	err := unix.Close(q.fd)
	q.fd = -1
	return err
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
