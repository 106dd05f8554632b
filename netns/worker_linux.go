// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// init locks the main goroutine to the main thread, the thread group
// leader, for the life of the process (an init function's
// runtime.LockOSThread outlives init: main then runs there too). No other
// goroutine ever runs on a locked thread, so no Worker can take the leader
// into the target namespace: /proc/PID/ns/net, and every tool that reads
// it (ip netns identify, ss, lsns), must show the host's network namespace
// for pasta's PID, as it does for passt's pasta.
func init() { runtime.LockOSThread() }

// ErrWorkerGone is returned by Do when the worker's thread failed to enter
// the namespace and has exited.
var ErrWorkerGone = errors.New("netns: worker thread is gone")

// Worker is a goroutine locked to an OS thread that lives in the target
// network namespace for the rest of the process's life. Functions given to
// Do run on that thread, so every socket, tap file descriptor or netlink
// socket they create belongs to the target namespace; the file descriptors
// stay valid on every other thread. The thread never calls
// runtime.UnlockOSThread: the Go runtime must never schedule another
// goroutine on a thread whose namespace differs from the process's (see
// "Theory of operation"). Do is safe for concurrent use; calls run one at a
// time, in order.
type Worker struct {
	reqs chan workerReq
	dead chan struct{}
}

type workerReq struct {
	fn   func() error
	done chan error
}

// NewWorker starts a worker in the network namespace at nsPath (a file
// such as /proc/PID/ns/net or /run/netns/NAME). The caller needs
// CAP_SYS_ADMIN in the user namespace that owns that network namespace, and
// in its own user namespace.
func NewWorker(nsPath string) (*Worker, error) {
	fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", nsPath, err)
	}
	w, err := NewWorkerFd(fd)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("enter network namespace %s: %w", nsPath, err)
	}
	return w, nil
}

// NewWorkerFd is NewWorker for an open namespace file descriptor, which the
// caller keeps and may close once NewWorkerFd returns.
func NewWorkerFd(nsFd int) (*Worker, error) {
	w := &Worker{reqs: make(chan workerReq), dead: make(chan struct{})}
	started := make(chan error, 1)
	go w.loop(nsFd, started)
	if err := <-started; err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Worker) loop(nsFd int, started chan<- error) {
	// Never unlocked: if setns fails, or once the loop ends, returning with
	// the lock held makes the runtime discard the thread.
	runtime.LockOSThread()
	if err := unix.Setns(nsFd, unix.CLONE_NEWNET); err != nil {
		close(w.dead)
		started <- fmt.Errorf("setns: %w", err)
		return
	}
	started <- nil
	for r := range w.reqs {
		r.done <- r.fn()
	}
}

// Do runs fn on the worker's thread, inside the target network namespace,
// and returns its error. fn must not start goroutines that expect to run in
// the namespace, and must not call runtime.UnlockOSThread.
func (w *Worker) Do(fn func() error) error {
	done := make(chan error, 1)
	select {
	case w.reqs <- workerReq{fn: fn, done: done}:
	case <-w.dead:
		return ErrWorkerGone
	}
	return <-done
}

// Socket creates a close-on-exec socket inside the target network
// namespace, for pasta's namespace-side listeners (-T, -U) and splice
// connections. It fits tcp.Config.NsSocket.
func (w *Worker) Socket(domain, typ, proto int) (int, error) {
	fd := -1
	err := w.Do(func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("socket in namespace: %w", err)
	}
	return fd, nil
}
