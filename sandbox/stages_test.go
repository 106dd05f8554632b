// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEnterEmptyRootRefusesUnverified: pivoting in a mount namespace
// shared with other processes would change their root too, so without a
// successful VerifyStage EnterEmptyRoot returns before any mount.
func TestEnterEmptyRootRefusesUnverified(t *testing.T) {
	if err := EnterEmptyRoot(); !errors.Is(err, ErrSharedMountNS) {
		t.Fatalf("EnterEmptyRoot = %v, want ErrSharedMountNS", err)
	}
}

func TestInitial(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rfd, wfd := int(r.Fd()), int(w.Fd())
	// Pretend w was opened without O_CLOEXEC.
	if _, err := unix.FcntlInt(uintptr(wfd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	if err := Initial(rfd); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		fd      int
		cloexec bool
	}{{"kept", rfd, false}, {"other", wfd, true}} {
		flags, err := unix.FcntlInt(uintptr(tt.fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := flags&unix.FD_CLOEXEC != 0; got != tt.cloexec {
			t.Errorf("%s fd %d: FD_CLOEXEC = %v, want %v", tt.name, tt.fd, got, tt.cloexec)
		}
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur != rl.Max {
		t.Errorf("RLIMIT_NOFILE soft %d != hard %d", rl.Cur, rl.Max)
	}
	unix.CloseOnExec(rfd)
}

func TestStageAndInheritedNone(t *testing.T) {
	if os.Getenv(envStage) != "" {
		t.Skip("running inside a re-exec")
	}
	if Stage() != "" {
		t.Errorf("Stage() = %q outside a re-exec", Stage())
	}
}

// TestChrootFallback: when pivot_root fails with EINVAL (as on an
// initramfs root), --chroot-fallback still leaves the process in the empty
// root, by chroot; without it, EnterEmptyRoot fails. Each case runs in a
// child process in a new mount namespace (unshare -m), as the root
// changes for good.
func TestChrootFallback(t *testing.T) {
	if v := os.Getenv("GOPASST_TEST_CHROOT_FALLBACK"); v != "" {
		pivotRoot = func(string, string) error { return unix.EINVAL }
		state.Verified = true // the child runs in a mount namespace of its own (unshare -m)
		err := enterEmptyRoot(v == "fallback")
		ents, rerr := os.ReadDir("/")
		switch {
		case v == "fallback" && (err != nil || rerr != nil || len(ents) != 0):
			t.Fatalf("enterEmptyRoot(true) = %v; / has %d entries (%v)", err, len(ents), rerr)
		case v == "none" && !errors.Is(err, unix.EINVAL):
			t.Fatalf("enterEmptyRoot(false) = %v, want EINVAL", err)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (unshare -m)")
	}
	for _, v := range []string{"fallback", "none"} {
		t.Run(v, func(t *testing.T) {
			cmd := exec.Command("unshare", "-m", "--propagation", "private", os.Args[0], "-test.run=^TestChrootFallback$", "-test.count=1")
			cmd.Env = append(os.Environ(), "GOPASST_TEST_CHROOT_FALLBACK="+v)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
				t.Fatalf("child: %v\n%s", err, out)
			}
		})
	}
}
