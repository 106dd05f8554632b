// SPDX-License-Identifier: GPL-2.0-or-later

package ctl

import (
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/flow"
	"gopasst/flow/flowtest"
	"gopasst/policy"
)

var discard = slog.New(slog.DiscardHandler)

// recorder is an Opener that keeps the ports open in a list and refuses
// port fail. The Server calls it from the event-loop goroutine and the
// test reads it from its own: mu orders them (the socket reply in
// between is invisible to the race detector).
type recorder struct {
	mu   sync.Mutex
	open []uint16
	fail uint16
}

// ports returns a copy of the open ports.
func (r *recorder) ports() []uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.open)
}

func (r *recorder) Listen(l policy.Listener) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l.Port == r.fail || slices.Contains(r.open, l.Port) {
		return errors.New("address already in use")
	}
	r.open = append(r.open, l.Port)
	return nil
}

func (r *recorder) Unlisten(port uint16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(r.open, port)
	if i < 0 {
		return errors.New("no listener")
	}
	r.open = slices.Delete(r.open, i, i+1)
	return nil
}

// TestServer runs the Server on a real socket and epoll set, with the
// client of package ctl: add, list, refusals, rollback, del.
func TestServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	fd, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	p := flowtest.NewPoller(t)
	tcp := &recorder{fail: 9003}
	s, err := New(Config{Fd: fd, Poller: p, TCP: tcp, Static: []string{"TCP [*]:22 => 22"}, Log: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The event loop: dispatch to the Server until stop is closed.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = p.Dispatch(20, func(ref flow.Ref, ev uint32) {
				if ref.Kind == flow.KindCtl {
					s.HandleSock(ref, ev, 0)
				}
			})
		}
	}()
	var stopOnce sync.Once
	stopLoop := func() { stopOnce.Do(func() { close(stop); <-done }) }
	defer stopLoop()

	do := func(req string) (string, error) {
		lines, err := Do(path, req, 2*time.Second)
		return strings.Join(lines, "|"), err
	}
	for _, step := range []struct {
		req, want, err string
		open           []uint16
	}{
		{req: "add -t 8080", open: []uint16{8080}},
		{req: "add -t 8080", err: "already added", open: []uint16{8080}},
		{req: "add -t 127.0.0.1/8080", err: "in use", open: []uint16{8080}},
		{req: "add -t 9000-9005", err: "port 9003", open: []uint16{8080}}, // rolled back
		{req: "add -u 53", err: "not available", open: []uint16{8080}},
		{req: "list", want: "rule TCP [*]:22 => 22 (static)|rule -t 8080", open: []uint16{8080}},
		{req: "del -t 8081", err: "no such", open: []uint16{8080}},
		{req: "del -t 8080", open: nil},
		{req: "list", want: "rule TCP [*]:22 => 22 (static)", open: nil},
		{req: "bogus", err: "unknown request"},
	} {
		got, err := do(step.req)
		switch {
		case step.err == "" && err != nil:
			t.Errorf("%s: %v", step.req, err)
		case step.err != "" && (err == nil || !strings.Contains(err.Error(), step.err)):
			t.Errorf("%s: error %v, want %q", step.req, err, step.err)
		}
		if got != step.want {
			t.Errorf("%s: %q, want %q", step.req, got, step.want)
		}
		if open := tcp.ports(); !slices.Equal(open, step.open) {
			t.Errorf("after %s: open %v, want %v", step.req, open, step.open)
		}
	}
	// A hostile line: refused, the client closed, the Server serving on.
	if _, err := do("list\x01"); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("control byte: %v", err)
	}
	if got, err := do("list"); err != nil || !strings.Contains(got, "static") {
		t.Errorf("list after a hostile line: %q, %v", got, err)
	}
	stopLoop() // the counters belong to the event loop: read them after it
	st := s.Stats()
	if st[flow.DropMalformed] != 1 || st[flow.Opens] < 12 {
		t.Errorf("stats: malformed %d opens %d", st[flow.DropMalformed], st[flow.Opens])
	}
}

// TestListenStale replaces a socket nobody listens on, and refuses a
// live one.
func TestListenStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	fd, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if fd2, err := Listen(path); err == nil {
		closeFd(fd2)
		t.Fatal("Listen on a live socket succeeded")
	}
	closeFd(fd)
	fd, err = Listen(path)
	if err != nil {
		t.Fatalf("Listen on a stale socket: %v", err)
	}
	closeFd(fd)
}

func closeFd(fd int) { _ = unix.Close(fd) }
