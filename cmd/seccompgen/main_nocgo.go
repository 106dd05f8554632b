// SPDX-License-Identifier: GPL-2.0-or-later

//go:build !cgo

// Command seccompgen needs cgo and libseccomp (Debian: libseccomp-dev); this
// stub keeps CGO_ENABLED=0 builds of ./... working.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "seccompgen: built without cgo; rebuild with CGO_ENABLED=1 and libseccomp-dev installed")
	os.Exit(1)
}
