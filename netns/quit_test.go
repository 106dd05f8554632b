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
