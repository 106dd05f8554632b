// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestQuitWatcherFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "T")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := WatchQuit(Paths{Net: path})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if q.Check() {
		t.Fatal("gone before deletion")
	}
	// Unrelated files come and go: not gone.
	other := filepath.Join(dir, "U")
	os.WriteFile(other, nil, 0o644)
	os.Remove(other)
	if q.Check() {
		t.Fatal("gone after deleting another file")
	}
	done := q.Done()
	os.Remove(path)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("deletion not seen within 2 s")
	}
}

func TestQuitWatcherMissing(t *testing.T) {
	q, err := WatchQuit(Paths{Net: filepath.Join(t.TempDir(), "absent")})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if !q.Check() {
		t.Error("missing namespace file not reported gone")
	}
}

func TestQuitWatcherPID(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	q, err := WatchQuit(Paths{Net: "/proc/x/ns/net", PID: cmd.Process.Pid})
	if err != nil {
		t.Skipf("pidfd_open: %v", err)
	}
	defer q.Close()
	if q.Check() {
		t.Fatal("gone while running")
	}
	done := q.Done()
	cmd.Process.Kill()
	cmd.Wait()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("exit not seen within 2 s")
	}
}

func TestQuitWatcherSpawn(t *testing.T) {
	q, err := WatchQuit(Paths{})
	if q != nil || err != nil {
		t.Errorf("WatchQuit(spawn) = %v, %v; want nil, nil", q, err)
	}
}

// TestQuitWatcherEvents: the inotify events alone tell that the file is
// gone (after sandbox.Enter no path resolves): renamed away, or its
// directory removed.
func TestQuitWatcherEvents(t *testing.T) {
	for _, tt := range []struct {
		name string
		act  func(dir, path string) error
	}{
		{name: "renamed", act: func(dir, path string) error { return os.Rename(path, filepath.Join(dir, "moved")) }},
		{name: "dir removed", act: func(dir, path string) error {
			if err := os.Remove(path); err != nil {
				return err
			}
			return os.Remove(dir)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ns")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "T")
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			q, err := WatchQuit(Paths{Net: path})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			if q.Check() {
				t.Fatal("gone before the change")
			}
			if err := tt.act(dir, path); err != nil {
				t.Fatal(err)
			}
			if !q.Check() {
				t.Error("not reported gone")
			}
		})
	}
}
