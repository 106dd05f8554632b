// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are passed on to the child pasta waits for.
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// forwardSignals relays forwardedSignals to p until stop is called.
func forwardSignals(p *os.Process) (stop func()) {
	return onSignals(func(s os.Signal) { p.Signal(s) })
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
