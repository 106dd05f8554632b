// SPDX-License-Identifier: GPL-2.0-or-later

package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogSize: however many lines are written, the file stays within the
// limit, holds whole lines only, and the newest line is always last.
func TestLogSize(t *testing.T) {
	for _, max := range []int64{4096, 10000, 1 << 20} {
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, []byte("old content\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := Open(path, max)
		if err != nil {
			t.Fatal(err)
		}
		var last string
		for i := range 20000 {
			last = fmt.Sprintf("line %d %s\n", i, strings.Repeat("x", i%97))
			if n, err := l.Write([]byte(last)); err != nil || n != len(last) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if i%1000 == 0 {
				checkFile(t, path, max, last)
			}
		}
		checkFile(t, path, max, last)
		l.Close()
	}
}

func checkFile(t *testing.T, path string, max int64, last string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) > max {
		t.Fatalf("size %d > limit %d", len(b), max)
	}
	if strings.Contains(string(b), "old content") {
		t.Fatal("not truncated at open")
	}
	if !strings.HasSuffix(string(b), last) {
		t.Fatalf("newest line %q not last", last)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if !strings.HasPrefix(line, "line ") {
			t.Fatalf("broken line %q", line)
		}
	}
}

// TestLongLine: a line longer than the limit keeps its last bytes.
func TestLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, err := Open(path, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	long := strings.Repeat("a", 5000) + "END\n"
	if n, err := l.Write([]byte(long)); err != nil || n != len(long) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	b, _ := os.ReadFile(path)
	if len(b) != 4096 || !strings.HasSuffix(string(b), "END\n") {
		t.Fatalf("size %d, suffix %q", len(b), b[len(b)-4:])
	}
}
