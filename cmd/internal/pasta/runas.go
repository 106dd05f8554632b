// SPDX-License-Identifier: GPL-2.0-or-later

package pasta

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"

	"gopasst/policy"
	"gopasst/sandbox"
)

// nobodyID is the fallback for "nobody" and "nogroup" when the password
// and group files lack them (Debian's values).
const nobodyID = 65534

// errRunAsSpawn is returned for --runas with a spawned command.
var errRunAsSpawn = errors.New("--runas: not supported when pasta spawns the command " +
	"(pasta must keep the rights to signal it: it runs as root of a user namespace owned by uid 0)")

// errRunAsUnprivileged is returned for --runas naming another user when
// pasta cannot switch users.
var errRunAsUnprivileged = errors.New("cannot switch to another user: pasta was not started as root in the initial user namespace")

// checkRunAs refuses at start, in the process pasta was started as
// (euid, egid, in the initial user namespace or not), a --runas it cannot
// honour: only root in the initial user namespace switches users
// (runAsIDs); elsewhere --runas may only name the user and group pasta
// already runs as, and any other is an error, where passt's setuid()
// fails ("Can't set UID").
func checkRunAs(cfg *policy.Config, euid, egid int, initialUserNS bool) error {
	if cfg.RunAs == "" || (euid == 0 && initialUserNS) {
		return nil
	}
	ids, err := parseRunAs(cfg.RunAs, user.Lookup, user.LookupGroup)
	if err != nil {
		return fmt.Errorf("--runas %s: %w", cfg.RunAs, err)
	}
	if int(ids.UID) != euid || int(ids.GID) != egid {
		return fmt.Errorf("--runas %s: %w", cfg.RunAs, errRunAsUnprivileged)
	}
	return nil
}

// runAsIDs decides which user and group the engine switches to in
// sandbox.Enter, after the capability bounding set is cleared. Mirrors
// conf_ugid() in passt's conf.c:
//
//   - only when started as root in the initial user namespace: elsewhere
//     the engine is already unprivileged outside its namespaces, and
//     checkRunAs has made sure that --runas asks for no switch;
//   - --runas UID[:GID] | LOGIN[:GROUP], numeric or names; a login
//     without a group takes its primary group, a bare UID the same GID;
//   - by default nobody (and its group), so that the engine does not run
//     as uid 0 even with no capability left: uid 0 could still signal
//     root's processes (kill is in the filter, for the spawned command);
//   - not when spawning a command: the command runs as root of a user
//     namespace that uid 0 owns, and pasta forwards signals to it and kills
//     it on failure, which it could no longer do as another user. The
//     engine then stays uid 0, with no capabilities. --runas is an error.
func runAsIDs(cfg *policy.Config, root, initialUserNS, spawn bool) (*sandbox.IDs, error) {
	if !root || !initialUserNS {
		return nil, nil
	}
	if spawn {
		if cfg.RunAs != "" {
			return nil, errRunAsSpawn
		}
		return nil, nil
	}
	spec := cfg.RunAs
	if spec == "" {
		spec = "nobody"
	}
	ids, err := parseRunAs(spec, user.Lookup, user.LookupGroup)
	if err != nil {
		if cfg.RunAs == "" {
			// No "nobody" in the password file: use its usual IDs.
			return &sandbox.IDs{UID: nobodyID, GID: nobodyID}, nil
		}
		return nil, fmt.Errorf("--runas %s: %w", spec, err)
	}
	if ids.UID == 0 {
		// As passt: switching to root is no switch at all.
		return nil, nil
	}
	return &ids, nil
}

// parseRunAs resolves UID[:GID] | LOGIN[:GROUP] with the given lookups.
func parseRunAs(spec string, lookupUser func(string) (*user.User, error), lookupGroup func(string) (*user.Group, error)) (sandbox.IDs, error) {
	us, gs, hasGroup := strings.Cut(spec, ":")
	if us == "" || hasGroup && gs == "" {
		return sandbox.IDs{}, errors.New("want UID[:GID] or LOGIN[:GROUP]")
	}
	var ids sandbox.IDs
	primary := ""
	if v, err := strconv.ParseUint(us, 10, 32); err == nil {
		ids.UID = uint32(v)
	} else {
		u, err := lookupUser(us)
		if err != nil {
			return sandbox.IDs{}, err
		}
		if ids.UID, err = atoID(u.Uid); err != nil {
			return sandbox.IDs{}, err
		}
		primary = u.Gid
	}
	switch {
	case hasGroup:
		if v, err := strconv.ParseUint(gs, 10, 32); err == nil {
			ids.GID = uint32(v)
			break
		}
		g, err := lookupGroup(gs)
		if err != nil {
			return sandbox.IDs{}, err
		}
		if ids.GID, err = atoID(g.Gid); err != nil {
			return sandbox.IDs{}, err
		}
	case primary != "":
		var err error
		if ids.GID, err = atoID(primary); err != nil {
			return sandbox.IDs{}, err
		}
	default:
		ids.GID = ids.UID
	}
	return ids, nil
}

func atoID(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad ID %q", s)
	}
	return uint32(v), nil
}
