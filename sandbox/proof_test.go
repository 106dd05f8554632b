// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestVerifyStage: the environment alone proves nothing. A forged proof
// variable, a descriptor that is not the pipe, a wrong token, and even a
// genuine proof in a process that shares its parent's mount namespace (as
// this test does) are all refused, and the process stays unverified.
func TestVerifyStage(t *testing.T) {
	file, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tt := range []struct {
		name  string
		env   func(t *testing.T) string // "" = unset
		want  error
		inMsg string
	}{
		{"unset", func(*testing.T) string { return "" }, ErrNotStage, "no " + envProof},
		{"malformed", func(*testing.T) string { return "x" }, ErrNotStage, "malformed"},
		{"not a pipe", func(*testing.T) string {
			return strconv.Itoa(int(file.Fd())) + ":" + strings.Repeat("ab", tokenBytes)
		}, ErrNotStage, "not the proof pipe"},
		{"wrong token", func(t *testing.T) string {
			env, r, err := StageProof(0)
			if err != nil {
				t.Fatal(err)
			}
			_, tok, _ := strings.Cut(strings.TrimPrefix(env, envProof+"="), ":")
			tok = strings.Repeat("0", len(tok))
			return strconv.Itoa(dupFd(t, r)) + ":" + tok
		}, ErrNotStage, "does not hold the token"},
		{"parent's mount namespace", func(t *testing.T) string {
			env, r, err := StageProof(0)
			if err != nil {
				t.Fatal(err)
			}
			_, tok, _ := strings.Cut(strings.TrimPrefix(env, envProof+"="), ":")
			return strconv.Itoa(dupFd(t, r)) + ":" + tok
		}, ErrSharedMountNS, "as the parent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if v := tt.env(t); v != "" {
				t.Setenv(envProof, v)
			} else {
				os.Unsetenv(envProof)
			}
			err := VerifyStage()
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.inMsg) {
				t.Fatalf("VerifyStage = %v, want %v containing %q", err, tt.want, tt.inMsg)
			}
			if state.Verified {
				t.Fatal("state.Verified after a failed VerifyStage")
			}
			if _, ok := os.LookupEnv(envProof); ok {
				t.Errorf("%s still set", envProof)
			}
		})
	}
}

// dupFd returns a descriptor of r's pipe that VerifyStage may close.
func dupFd(t *testing.T, r *os.File) int {
	t.Helper()
	defer r.Close()
	fd, err := dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func dup(fd int) (int, error) { return unix.Dup(fd) }
