// SPDX-License-Identifier: GPL-2.0-or-later

package logging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFileSizeCapped writes 10,000 messages of varied lengths to a File of
// 4096 bytes, on the test's file system and on tmpfs, and checks after
// every message that the file is within the size, holds whole lines
// only, ends with the newest message and has no gap in the kept ones.
func TestFileSizeCapped(t *testing.T) {
	dirs := map[string]string{"tempdir": t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "gopasst-log-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			dirs["tmpfs"] = d
		}
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			const max, messages = 4096, 10000
			path := filepath.Join(dir, "log")
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			l := NewFile(f, max)
			defer l.Close()
			for i := range messages {
				msg := fmt.Sprintf("message %d %s\n", i, strings.Repeat("x", (i*37)%300))
				if n, err := l.Write([]byte(msg)); err != nil || n != len(msg) {
					t.Fatalf("message %d: Write = %d, %v", i, n, err)
				}
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > max {
					t.Fatalf("after message %d the file has %d bytes, more than %d", i, st.Size(), max)
				}
				if i%997 == 0 || i == messages-1 {
					checkLines(t, path, i)
				}
			}
		})
	}
}

// checkLines checks that the file holds consecutive whole messages ending
// with number last.
func checkLines(t *testing.T, path string, last int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("after message %d: file does not end with a whole line", last)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	prev := -1
	for _, ln := range lines {
		f := strings.Fields(ln)
		if len(f) < 2 || f[0] != "message" {
			t.Fatalf("after message %d: broken line %q", last, ln)
		}
		n, err := strconv.Atoi(f[1])
		if err != nil || (prev >= 0 && n != prev+1) {
			t.Fatalf("after message %d: line %q does not follow message %d", last, ln, prev)
		}
		prev = n
	}
	if prev != last {
		t.Fatalf("file ends with message %d, want %d", prev, last)
	}
	if last >= 100 && len(lines) < 5 {
		t.Errorf("after message %d only %d lines kept of %d bytes", last, len(lines), len(b))
	}
}

// TestFileLongMessage cuts a message longer than the size to the size.
func TestFileLongMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l := NewFile(f, 4096)
	defer l.Close()
	l.Write([]byte("short\n"))
	long := bytes.Repeat([]byte("y"), 10000)
	if n, err := l.Write(long); err != nil || n != len(long) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	b, _ := os.ReadFile(path)
	if len(b) != 4096 || !bytes.Equal(b, long[:4096]) {
		t.Errorf("file has %d bytes, want the message's first 4096", len(b))
	}
	l.Write([]byte("after\n"))
	if b, _ := os.ReadFile(path); string(b) != "after\n" {
		t.Errorf("after a rotation past a line-less file: %q", b)
	}
}
