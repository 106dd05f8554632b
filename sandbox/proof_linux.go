// SPDX-License-Identifier: GPL-2.0-or-later

package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// envProof names the stage proof: "FD:TOKEN", where FD is an inherited
// pipe holding TOKEN (hex) and nothing else.
const envProof = "GOPASST_SANDBOX_PROOF"

// tokenBytes is the size of the random token of a stage proof.
const tokenBytes = 16

// ErrNotStage is returned by VerifyStage when the process cannot prove
// that it is a stage started by Reexec or with a StageProof: the
// environment alone says nothing, since any caller can set it.
var ErrNotStage = errors.New("not a re-executed sandbox stage")

// StageProof makes the proof a stage started by other means than Reexec
// needs (pasta's own exec.Cmd, possibly through nsenter and unshare): a
// pipe whose read end the child must inherit at fd, holding a fresh random
// token, and the environment entry that names both. The token is written
// and the write end closed before StageProof returns, so the child reads
// the token and then end of file. The caller closes r after starting the
// child.
func StageProof(fd int) (env string, r *os.File, err error) {
	var tok [tokenBytes]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return "", nil, fmt.Errorf("stage proof: %w", err)
	}
	s := hex.EncodeToString(tok[:])
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, fmt.Errorf("stage proof: %w", err)
	}
	_, err = w.WriteString(s)
	w.Close()
	if err != nil {
		r.Close()
		return "", nil, fmt.Errorf("stage proof: %w", err)
	}
	return envProof + "=" + strconv.Itoa(fd) + ":" + s, r, nil
}

// VerifyStage makes the process prove to itself that it is a re-executed
// stage, before anything else happens in it. Both must hold:
//
//  1. the descriptor named by the proof variable is a pipe that holds
//     exactly the token the variable names (a stale or copied environment
//     has no such descriptor);
//  2. the process's mount namespace differs from its parent's, read from
//     /proc/self/ns/mnt and /proc/PPID/ns/mnt: the clone flags of the
//     re-exec made it, so pivoting to the empty root cannot touch anyone
//     else's root. A process in a new user namespace may not read the
//     parent's file (EACCES); it checks instead that its user namespace
//     is not the initial one and owns its mount namespace (NS_GET_USERNS),
//     which the host's mount namespace, or any made outside that user
//     namespace, cannot.
//
// The descriptor is closed and the variable removed in any case.
// EnterEmptyRoot refuses to run unless VerifyStage succeeded.
func VerifyStage() error {
	v, ok := os.LookupEnv(envProof)
	os.Unsetenv(envProof)
	if !ok {
		return fmt.Errorf("%w: no %s", ErrNotStage, envProof)
	}
	fdStr, want, ok := strings.Cut(v, ":")
	fd, err := strconv.Atoi(fdStr)
	if !ok || err != nil || fd < 3 || len(want) != 2*tokenBytes {
		return fmt.Errorf("%w: malformed %s", ErrNotStage, envProof)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return fmt.Errorf("%w: fd %d is not the proof pipe", ErrNotStage, fd)
	}
	var buf [2*tokenBytes + 1]byte
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return fmt.Errorf("%w: fd %d holds no token", ErrNotStage, fd)
		}
		if err != nil || m == 0 {
			break
		}
		n += m
	}
	if n != 2*tokenBytes || subtle.ConstantTimeCompare(buf[:n], []byte(want)) != 1 {
		return fmt.Errorf("%w: fd %d does not hold the token", ErrNotStage, fd)
	}
	own, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotStage, err)
	}
	ppid := os.Getppid()
	parent, err := os.Readlink("/proc/" + strconv.Itoa(ppid) + "/ns/mnt")
	switch {
	case err == nil && own == parent:
		return fmt.Errorf("%w: %w (%s, as the parent PID %d)", ErrNotStage, ErrSharedMountNS, own, ppid)
	case err == nil:
	case errors.Is(err, unix.EACCES):
		// A process in a user namespace of its own may not read its
		// parent's namespace files (the capability check for another
		// user namespace fails). Then the mount namespace must belong
		// to that user namespace: the host's, and any other not made
		// under our own user namespace, belongs to an ancestor.
		if err := ownMountNS(); err != nil {
			return fmt.Errorf("%w: %w: %v", ErrNotStage, ErrSharedMountNS, err)
		}
	default:
		return fmt.Errorf("%w: mount namespace of the parent (PID %d): %v", ErrNotStage, ppid, err)
	}
	state.Verified = true
	nameThreads()
	return nil
}

// ownMountNS checks that this process's mount namespace is owned by its
// user namespace and that this is not the initial user namespace.
func ownMountNS() error {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return err
	}
	if strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295" {
		return errors.New("in the initial user namespace")
	}
	mnt, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	owner, err := unix.IoctlRetInt(mnt, unix.NS_GET_USERNS)
	if err != nil {
		return fmt.Errorf("NS_GET_USERNS: %w", err)
	}
	defer unix.Close(owner)
	var a, b2 unix.Stat_t
	if err := unix.Fstat(owner, &a); err != nil {
		return err
	}
	if err := unix.Stat("/proc/self/ns/user", &b2); err != nil {
		return err
	}
	if a.Dev != b2.Dev || a.Ino != b2.Ino {
		return errors.New("the mount namespace belongs to another user namespace")
	}
	return nil
}
