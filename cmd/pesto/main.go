// SPDX-License-Identifier: GPL-2.0-or-later

// Command pesto changes a running pasta's forwarding rules through its
// -c/--conf-path control socket (package ctl):
//
//	pesto [-s] PATH                      list the rules
//	pesto -A [-t|-u SPEC]... [-s] PATH   add rules (host listeners open)
//	pesto -D [-t|-u SPEC]... [-s] PATH   remove rules added with -A
//
// The command line is upstream pesto's; the protocol is gopasst's own
// line protocol, so it talks to gopasst's pasta only. It stops at the
// first rule refused, exiting 1. This is the only place that exits.
package main

import (
	"fmt"
	"os"
	"time"

	"gopasst/ctl"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Println("Usage: pesto [-s] PATH\n       pesto -A|-D [-t|-u SPEC]... [-s] PATH")
		return 0
	}
	path, reqs, err := ctl.ParseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pesto:", err)
		return 1
	}
	for _, r := range reqs {
		lines, err := ctl.Do(path, r, 5*time.Second)
		for _, l := range lines {
			fmt.Println(l)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "pesto: %s: %v\n", r, err)
			return 1
		}
	}
	return 0
}
