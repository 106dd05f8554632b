// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"errors"
	"strconv"
	"strings"

	"gopasst/policy"
)

// NetnsDir is where "ip netns add NAME" mounts named network namespaces;
// --netns NAME means NetnsDir/NAME.
const NetnsDir = "/run/netns"

// Paths says which namespaces pasta attaches to.
type Paths struct {
	// Net is the network namespace file to join; empty when pasta spawns
	// COMMAND in new namespaces.
	Net string
	// User is the user namespace file to join first; empty: none.
	User string
	// PID is the process whose namespaces these are (pasta PID, or a
	// --netns path of the form /proc/PID/ns/net); 0 if none.
	PID int
}

// Spawn reports whether pasta creates namespaces for a command.
func (p Paths) Spawn() bool { return p.Net == "" }

// ResolvePaths applies pasta's rules to cfg: PID means /proc/PID/ns/net and,
// unless --netns-only, /proc/PID/ns/user; --netns NAME without a slash
// means NetnsDir/NAME; --userns overrides the user namespace.
func ResolvePaths(cfg *policy.Config) (Paths, error) {
	var p Paths
	switch {
	case cfg.TargetPID != 0 && cfg.NetNS != "":
		return p, errors.New("both --netns and PID given")
	case cfg.TargetPID != 0 && len(cfg.Command) > 0:
		return p, errors.New("both PID and command given")
	case cfg.NetNS != "" && len(cfg.Command) > 0:
		return p, errors.New("both --netns and command given")
	case cfg.TargetPID < 0:
		return p, errors.New("invalid PID " + strconv.Itoa(cfg.TargetPID))
	case cfg.TargetPID > 0:
		p.PID = cfg.TargetPID
		proc := "/proc/" + strconv.Itoa(cfg.TargetPID) + "/ns/"
		p.Net = proc + "net"
		if !cfg.NetNSOnly {
			p.User = proc + "user"
		}
	case cfg.NetNS != "":
		p.Net = cfg.NetNS
		if !strings.Contains(p.Net, "/") {
			p.Net = NetnsDir + "/" + p.Net
		}
		p.PID = procPID(p.Net)
	case cfg.UserNS != "":
		return p, errors.New("--userns needs --netns or PID")
	}
	if cfg.UserNS != "" {
		p.User = cfg.UserNS
	}
	if cfg.NetNSOnly {
		p.User = ""
	}
	return p, nil
}

// procPID returns PID for a path of the form /proc/PID/..., else 0.
func procPID(path string) int {
	rest, ok := strings.CutPrefix(path, "/proc/")
	if !ok {
		return 0
	}
	num, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(num)
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
