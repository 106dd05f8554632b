// SPDX-License-Identifier: GPL-2.0-or-later

// Command pasta is a pasta-only build of gopasst for development, so that
// `go build ./cmd/...` gives a pasta binary whatever it is called.
// Distributions ship cmd/passt, which acts as pasta when run through a
// link named pasta; both run package cmd/internal/pasta.
package main

import (
	"os"

	"gopasst/cmd/internal/pasta"
)

func main() {
	os.Exit(pasta.Main(os.Args[1:]))
}
