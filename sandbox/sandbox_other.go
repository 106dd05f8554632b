// SPDX-License-Identifier: GPL-2.0-or-later

//go:build !linux

package sandbox

import (
	"errors"
	"os"

	"github.com/syndtr/gocapability/capability"

	"gopasst/policy"
)

// ErrUnsupported is returned by every stage outside Linux.
var ErrUnsupported = errors.New("sandbox: only supported on Linux")

// Options tune Enter.
type Options struct {
	Action         Action
	KeepCaps       []capability.Cap
	RunAs          *IDs
	SkipEmptyRoot  bool
	ChrootFallback bool
}

// IDs are the user and group a confined process switches to.
type IDs struct{ UID, GID uint32 }

func VerifyStage() error { return ErrUnsupported }

// ReexecOptions tune Reexec.
type ReexecOptions struct{}

// State records which stages completed.
type State struct{}

func Initial(keep ...int) error                       { return ErrUnsupported }
func Enter(mode policy.Mode, opt Options) error       { return ErrUnsupported }
func EnterEmptyRoot() error                           { return ErrUnsupported }
func Limits() error                                   { return ErrUnsupported }
func DropCaps(keep []capability.Cap) error            { return ErrUnsupported }
func InstallSeccomp(mode policy.Mode, a Action) error { return ErrUnsupported }
func Stage() string                                   { return "" }
func InheritedFDs() ([]int, error)                    { return nil, nil }
func Status() State                                   { return State{} }

func Reexec(stage string, files []*os.File, opt ReexecOptions) (*os.Process, error) {
	return nil, ErrUnsupported
}
