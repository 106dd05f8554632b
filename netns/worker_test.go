// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWorkerSameThread(t *testing.T) {
	w, err := NewWorker("/proc/self/ns/net")
	if errors.Is(err, unix.EPERM) {
		t.Skip("setns needs CAP_SYS_ADMIN")
	}
	if err != nil {
		t.Fatal(err)
	}
	var first int
	for i := range 20 {
		var tid int
		if err := w.Do(func() error { tid = unix.Gettid(); return nil }); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tid
		} else if tid != first {
			t.Fatalf("call %d ran on thread %d, first on %d", i, tid, first)
		}
	}
	if first == unix.Gettid() && first != 0 {
		// Not an error in itself, but the test goroutine would have to be
		// locked to the worker's thread, which cannot happen.
		t.Errorf("worker shares the test's thread %d", first)
	}
	wantErr := errors.New("x")
	if err := w.Do(func() error { return wantErr }); err != wantErr {
		t.Errorf("Do error = %v, want %v", err, wantErr)
	}
}

func TestWorkerBadPath(t *testing.T) {
	if _, err := NewWorker("/nonexistent/ns/net"); err == nil {
		t.Error("NewWorker of a missing file succeeded")
	}
	// A file that is not a namespace: setns fails and the worker is gone.
	if _, err := NewWorker("/proc/self/status"); err == nil {
		t.Error("NewWorker of a non-namespace file succeeded")
	}
}
