// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import "os"

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
