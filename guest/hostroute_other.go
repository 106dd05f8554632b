// SPDX-License-Identifier: GPL-2.0-or-later

//go:build !linux

package guest

import (
	"errors"

	"gopasst/policy"
)

// HostInfoFromKernel is only implemented on Linux.
func HostInfoFromKernel(ifname string) (HostInfo, error) {
	return HostInfo{}, errors.New("host routes: not supported on this platform")
}

// HostInfoForConfig is only implemented on Linux.
func HostInfoForConfig(cfg *policy.Config) (HostInfo, error) {
	return HostInfoFromKernel(cfg.Interface)
}
