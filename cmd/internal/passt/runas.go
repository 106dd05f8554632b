// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// runAsIDs resolves --runas UID[:GID] | LOGIN[:GROUP]. Zero means the
// default: nobody when started as root, the caller otherwise
// (sandbox.ReexecOptions).
func runAsIDs(spec string) (uid, gid uint32, err error) {
	if spec == "" {
		return 0, 0, nil
	}
	us, gs, hasGroup := strings.Cut(spec, ":")
	id := func(s string, lookup func(string) (string, error)) (uint32, error) {
		if v, err := strconv.ParseUint(s, 10, 32); err == nil {
			return uint32(v), nil
		}
		v, err := lookup(s)
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseUint(v, 10, 32)
		return uint32(n), err
	}
	var primary string
	uid, err = id(us, func(name string) (string, error) {
		u, err := user.Lookup(name)
		if err != nil {
			return "", err
		}
		primary = u.Gid
		return u.Uid, nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("--runas %s: %w", spec, err)
	}
	switch {
	case hasGroup:
		gid, err = id(gs, func(name string) (string, error) {
			g, err := user.LookupGroup(name)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
	case primary != "":
		var v uint64
		v, err = strconv.ParseUint(primary, 10, 32)
		gid = uint32(v)
	default:
		gid = uid
	}
	if err != nil {
		return 0, 0, fmt.Errorf("--runas %s: %w", spec, err)
	}
	return uid, gid, nil
}
