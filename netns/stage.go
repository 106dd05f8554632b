// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"os"
	"strings"
)

// Re-exec stages. pasta runs as several processes of the same binary; the
// environment variable StageEnv tells a re-executed copy which one it is.
// See "Theory of operation".
const (
	// StageEnv names the environment variable that holds the stage.
	StageEnv = "GOPASST_STAGE"
	// StageLaunch (the variable unset) is the process the user started.
	StageLaunch = ""
	// StageEngine is the process that owns the tap and runs the engine,
	// when the launcher had to re-execute (a new or joined user
	// namespace, or a daemon).
	StageEngine = "engine"
	// StageNsinit is the process that becomes COMMAND, PID 1 of the new
	// namespaces, once the engine releases it.
	StageNsinit = "nsinit"
)

// Further variables passed between stages.
const (
	// readyFdEnv holds the number of the inherited fd on which a daemon
	// engine reports readiness to its launcher.
	readyFdEnv = "GOPASST_READY_FD"
	// ownUserNSEnv is set when the launcher created a fresh user
	// namespace for the engine (rootless pasta -- COMMAND): nsinit then
	// needs no user namespace of its own.
	ownUserNSEnv = "GOPASST_OWN_USERNS"
)

// Stage returns the stage of this process, from StageEnv.
func Stage() string { return os.Getenv(StageEnv) }

// childEnv returns the environment for a re-executed stage: ours without
// the stage variables, plus extra ("KEY=VALUE").
func childEnv(extra ...string) []string {
	env := cleanEnv(os.Environ())
	return append(env, extra...)
}

// cleanEnv returns env without the variables that pass state between
// stages, so that COMMAND never sees them.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOPASST_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
