// SPDX-License-Identifier: GPL-2.0-or-later

// Command passt is gopasst's one binary: passt (a qemu guest on a UNIX
// stream socket, package cmd/internal/passt) or pasta (a tap device in a
// network namespace, package cmd/internal/pasta), chosen as upstream
// passt chooses, with one addition:
//
//  1. A re-executed stage keeps the role that started it, whatever its
//     argv[0]: pasta's engine and nsinit (netns.Stage), passt's sandboxed
//     process (passt.Reexecuted).
//  2. A first argument --gopasst-mode=pasta or --gopasst-mode=passt (also
//     as two arguments) chooses the mode and is removed from the command
//     line. Only the first argument is looked at, so a COMMAND's own
//     arguments are never taken for it; upstream has no option starting
//     with --gopasst, so it cannot shadow one of theirs.
//  3. Otherwise the name the binary runs as: a base name containing
//     "pasta" (pasta, pasta.avx2, /usr/bin/gopasta) is pasta, as upstream's
//     main() decides with strstr(); every other name is passt (upstream
//     refuses names holding neither word; here passt is the default, so
//     a binary renamed gopasst or a.out still works).
//
// Distributions install this binary as passt with pasta a symbolic link to
// it. cmd/pasta builds a pasta-only binary for development.
//
// This is the only place that exits.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopasst/cmd/internal/passt"
	"gopasst/cmd/internal/pasta"
	"gopasst/netns"
	"gopasst/policy"
)

func main() {
	os.Exit(run())
}

func run() int {
	mode, args, err := chooseMode(os.Args, netns.Stage() != netns.StageLaunch, passt.Reexecuted())
	if err != nil {
		fmt.Fprintln(os.Stderr, "passt:", err)
		return 1
	}
	if mode == policy.ModePasta {
		return pasta.Main(args)
	}
	return passt.Main(args)
}

// modeOption is gopasst's explicit choice of mode, valid only as the
// first argument.
const modeOption = "--gopasst-mode"

// chooseMode returns the mode for argv and the command line to run it
// with (argv[1:] less the mode option). pastaStage and passtStage say
// whether the process is a re-executed stage of either.
func chooseMode(argv []string, pastaStage, passtStage bool) (policy.Mode, []string, error) {
	args := []string{}
	if len(argv) > 1 {
		args = argv[1:]
	}
	switch {
	case pastaStage:
		return policy.ModePasta, args, nil
	case passtStage:
		return policy.ModePasst, args, nil
	}
	if len(args) > 0 && (args[0] == modeOption || strings.HasPrefix(args[0], modeOption+"=")) {
		name, ok := strings.CutPrefix(args[0], modeOption+"=")
		rest := args[1:]
		if !ok {
			if len(args) < 2 {
				return 0, nil, fmt.Errorf("%s needs an argument: pasta or passt", modeOption)
			}
			name, rest = args[1], args[2:]
		}
		switch name {
		case "pasta":
			return policy.ModePasta, rest, nil
		case "passt":
			return policy.ModePasst, rest, nil
		}
		return 0, nil, fmt.Errorf("%s: unknown mode %q (pasta or passt)", modeOption, name)
	}
	if len(argv) > 0 && strings.Contains(filepath.Base(argv[0]), "pasta") {
		return policy.ModePasta, args, nil
	}
	return policy.ModePasst, args, nil
}
