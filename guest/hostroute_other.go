// SPDX-License-Identifier: GPL-2.0-or-later

//go:build !linux

package guest

import "errors"

// HostInfoFromKernel is only implemented on Linux.
func HostInfoFromKernel(ifname string) (HostInfo, error) {
	return HostInfo{}, errors.New("host routes: not supported on this platform")
}
