// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// forwardedSignals are passed on to the child pasta waits for.
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// commandGrace is how long a spawned command has to end after pasta
// relayed a termination signal to it. It is PID 1 of its PID namespace,
// and the kernel drops signals from outside the namespace that PID 1 has
// no handler for (pid_namespaces(7)): "sleep 60" would ignore SIGTERM.
// Killing it kills every process of the namespace, so nothing is left
// behind. Short enough that pasta ends within a second of the signal.
const commandGrace = 500 * time.Millisecond

// forwardSignals relays forwardedSignals to p until stop is called. If p
// is still running grace after the first one (grace > 0), p gets SIGKILL,
// and that first signal is stored in killed (if not nil): p ended because
// of it, not by itself.
func forwardSignals(p *os.Process, grace time.Duration, killed *atomic.Int32) (stop func()) {
	var mu sync.Mutex
	var timer *time.Timer
	stopSend := onSignals(func(s os.Signal) {
		p.Signal(s)
		mu.Lock()
		defer mu.Unlock()
		sig, ok := s.(syscall.Signal)
		if timer != nil || grace <= 0 || !ok {
			return
		}
		timer = time.AfterFunc(grace, func() {
			if killed != nil {
				killed.Store(int32(sig))
			}
			p.Kill()
		})
	})
	return func() {
		stopSend()
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
	}
}

// onSignals calls send for each of forwardedSignals until stop is called.
func onSignals(send func(os.Signal)) (stop func()) {
	ch := make(chan os.Signal, 4)
	done := make(chan struct{})
	signal.Notify(ch, forwardedSignals...)
	go func() {
		for {
			select {
			case s := <-ch:
				send(s)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// signalFdEnv names the inherited fd of a foreground engine from which it
// reads the signals its launcher forwards (one byte each, the number).
const signalFdEnv = "GOPASST_SIGNAL_FD"

// relaySignals relays forwardedSignals to the engine through w, the write
// end of a pipe whose read end the engine reads in ReceiveSignals: a
// launcher that gave up root (or all capabilities) may no longer signal
// a root engine, and it needs no syscall but write to do this.
func relaySignals(w *os.File) (stop func()) {
	stopSend := onSignals(func(s os.Signal) { w.Write([]byte{byte(s.(syscall.Signal))}) })
	return func() {
		stopSend()
		w.Close()
	}
}

// ReceiveSignals starts relaying the signals a foreground launcher
// forwards (see relaySignals) to this process itself, where
// signal.Notify handlers see them as if they had been sent to it. Only
// forwardedSignals are raised; the reader ends when the launcher goes.
// Without a launcher relaying it does nothing.
func ReceiveSignals() {
	v := os.Getenv(signalFdEnv)
	os.Unsetenv(signalFdEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	unix.CloseOnExec(fd)
	go func() {
		var b [1]byte
		for {
			n, err := unix.Read(fd, b[:])
			if err == unix.EINTR {
				continue
			}
			if err != nil || n == 0 {
				unix.Close(fd)
				return
			}
			for _, s := range forwardedSignals {
				if s.(syscall.Signal) == syscall.Signal(b[0]) {
					unix.Kill(os.Getpid(), syscall.Signal(b[0]))
				}
			}
		}
	}()
}
