// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"runtime/debug"

	"gopasst/policy"
)

// version is stamped at link time by the Makefile:
//
//	go build -ldflags "-X gopasst/conf.version=$(VERSION)"
//
// with VERSION from `make VERSION=...` or `git describe --always --dirty
// --tags`. Empty in a plain `go build`.
var version string

// VersionNumber returns gopasst's version: the stamped one, else the
// module's version or VCS revision from the build info ("devel-REV",
// "-dirty" when the tree had changes), else "devel".
func VersionNumber() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionFromBuildInfo(bi)
}

// versionFromBuildInfo is VersionNumber's fallback, apart for tests.
func versionFromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + dirty
}

// Version returns what --version prints: "gopasst VERSION" and a line
// naming the mode.
func Version(mode policy.Mode) string {
	return "gopasst " + VersionNumber() + "\n" +
		modeName(mode) + " mode, command line compatible with passt and pasta\n"
}
