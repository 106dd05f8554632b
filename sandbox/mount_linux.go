// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrSharedMountNS is returned by EnterEmptyRoot when the process has not
// proven (VerifyStage) that it was started by Reexec or with a StageProof
// into a mount namespace of its own: pivoting there would change the root
// of every process sharing the namespace.
var ErrSharedMountNS = errors.New("not in a private mount namespace created by the re-exec")

// EnterEmptyRoot makes an empty, read-only tmpfs the root and working
// directory of the process and detaches the old root. Mirrors the mount
// part of isolate_prefork() in passt's isolation.c:
//
//	mount("", "/", MS_REC|MS_PRIVATE)     // nothing propagates back out
//	mount tmpfs on dir: ro, nodev, noexec, nosuid, nr_inodes=2, nr_blocks=0
//	chdir(dir); pivot_root(".", "."); umount2(".", MNT_DETACH); chdir("/")
//
// passt unshares CLONE_NEWNS right before. A Go process cannot: unshare
// affects only the calling thread (it implies CLONE_FS), so the other
// threads would keep the old namespace and root. The mount namespace must
// therefore come from Reexec's clone flags, and EnterEmptyRoot refuses to
// run unless VerifyStage proved, first thing in the process, that it is
// the re-executed stage and that its mount namespace is not its parent's. It needs CAP_SYS_ADMIN in the user namespace owning the mount
// namespace. chdir and pivot_root act on the fs_struct that all Go threads
// share, so the new root holds for every thread.
//
// After it, no path resolves: /proc, /etc and /dev are gone. Everything the
// process needs from files must be open before.
func EnterEmptyRoot() error { return enterEmptyRoot(false) }

// pivotRoot is pivot_root(2); tests make it fail.
var pivotRoot = unix.PivotRoot

// enterEmptyRoot is EnterEmptyRoot; with chrootFallback, a pivot_root that
// fails with EINVAL (the root is rootfs, an initramfs or tmpfs, or the
// result of an earlier chroot) is replaced by chroot(2) into the empty
// tmpfs, as passt's --chroot-fallback: the old root stays mounted
// underneath, out of reach once CAP_SYS_CHROOT is gone.
func enterEmptyRoot(chrootFallback bool) error {
	if !state.Verified {
		return fmt.Errorf("empty root: %w", ErrSharedMountNS)
	}
	dir := os.TempDir()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = "/"
		for _, d := range []string{"/tmp", "/run", "/dev", "/mnt"} {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dir = d
				break
			}
		}
		if dir == "/" {
			return errors.New("empty root: no directory to mount the tmpfs on")
		}
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("empty root: make / rprivate: %w", err)
	}
	flags := uintptr(unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_RDONLY)
	if err := unix.Mount("", dir, "tmpfs", flags, "nr_inodes=2,nr_blocks=0"); err != nil {
		return fmt.Errorf("empty root: mount tmpfs on %s: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("empty root: chdir %s: %w", dir, err)
	}
	if err := pivotRoot(".", "."); err != nil {
		if !chrootFallback || !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("empty root: pivot_root: %w", err)
		}
		if cerr := unix.Chroot("."); cerr != nil {
			return fmt.Errorf("empty root: pivot_root: %w; chroot fallback: %w", err, cerr)
		}
		if err := unix.Chdir("/"); err != nil {
			return fmt.Errorf("empty root: chdir /: %w", err)
		}
		state.EmptyRoot = true
		return nil
	}
	if err := unix.Unmount(".", unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
		return fmt.Errorf("empty root: detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("empty root: chdir /: %w", err)
	}
	state.EmptyRoot = true
	return nil
}
