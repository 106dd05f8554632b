// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTryListen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr error // nil: listening
	}{
		{"fresh path", func(*testing.T, string) {}, nil},
		{"stale socket file", func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close() // the file stays, nobody accepts
		}, nil},
		{"live socket", func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
		}, errInUse},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i))+".sock")
			tc.prepare(t, path)
			f, err := tryListen(path)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("tryListen: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			defer f.Close()
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatalf("not listening: %v", err)
			}
			c.Close()
		})
	}
}

func TestRunAsIDs(t *testing.T) {
	tests := []struct {
		spec     string
		uid, gid uint32
		wantErr  bool
	}{
		{"", 0, 0, false},
		{"1000", 1000, 1000, false},
		{"1000:2000", 1000, 2000, false},
		{"0:0", 0, 0, false},
		{"no-such-user-xyz", 0, 0, true},
		{"1000:no-such-group-xyz", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			uid, gid, err := runAsIDs(tc.spec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (uid != tc.uid || gid != tc.gid) {
				t.Fatalf("got %d:%d, want %d:%d", uid, gid, tc.uid, tc.gid)
			}
		})
	}
}

func TestHandover(t *testing.T) {
	var h handover
	h.add(fileConn, os.Stdin)
	h.add(fileLog, nil) // absent: skipped
	h.add(filePcap, os.Stdout)
	t.Setenv(envFiles, strings.TrimPrefix(h.env(), envFiles+"="))
	for name, want := range map[string]int{fileConn: 3, filePcap: 4, fileLog: -1, fileSocket: -1} {
		if got := inheritedFD(name); got != want {
			t.Errorf("inheritedFD(%s) = %d, want %d", name, got, want)
		}
	}
}

func TestQemuHint(t *testing.T) {
	for _, tt := range []struct {
		vhostUser bool
		want      string
	}{
		{false, "-netdev stream,id=s,server=off,addr.type=unix,addr.path=/tmp/x.sock -device virtio-net-pci,netdev=s"},
		{true, "-chardev socket,id=chr0,path=/tmp/x.sock -netdev vhost-user,id=netdev0,chardev=chr0 -device virtio-net,netdev=netdev0" +
			" -object memory-backend-memfd,id=memfd0,share=on,size=$RAMSIZE -numa node,memdev=memfd0\n"},
	} {
		h := qemuHint("/tmp/x.sock", tt.vhostUser)
		if !strings.Contains(h, tt.want) || !strings.HasPrefix(h, "UNIX domain socket bound at /tmp/x.sock\n") {
			t.Errorf("vhost-user %v: hint:\n%s", tt.vhostUser, h)
		}
	}
}
