// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"slices"
	"testing"

	"gopasst/policy"
)

func TestChooseMode(t *testing.T) {
	tests := []struct {
		name       string
		argv       []string
		pastaStage bool
		passtStage bool
		mode       policy.Mode
		args       []string
		err        bool
	}{
		{name: "passt by name", argv: []string{"/usr/bin/passt", "-f"}, mode: policy.ModePasst, args: []string{"-f"}},
		{name: "pasta link", argv: []string{"/usr/bin/pasta", "--config-net"}, mode: policy.ModePasta, args: []string{"--config-net"}},
		{name: "relative pasta", argv: []string{"./pasta"}, mode: policy.ModePasta, args: []string{}},
		{name: "pasta.avx2", argv: []string{"pasta.avx2"}, mode: policy.ModePasta, args: []string{}},
		{name: "other name is passt", argv: []string{"gopasst", "-1"}, mode: policy.ModePasst, args: []string{"-1"}},
		{name: "directory named pasta does not count", argv: []string{"/opt/pasta/passt"}, mode: policy.ModePasst, args: []string{}},
		{name: "option chooses pasta", argv: []string{"passt", "--gopasst-mode=pasta", "-q"}, mode: policy.ModePasta, args: []string{"-q"}},
		{name: "option as two arguments", argv: []string{"pasta", "--gopasst-mode", "passt", "-f"}, mode: policy.ModePasst, args: []string{"-f"}},
		{name: "option only first", argv: []string{"passt", "-f", "--gopasst-mode=pasta"}, mode: policy.ModePasst, args: []string{"-f", "--gopasst-mode=pasta"}},
		{name: "option unknown mode", argv: []string{"passt", "--gopasst-mode=qemu"}, err: true},
		{name: "option without value", argv: []string{"passt", "--gopasst-mode"}, err: true},
		{name: "pasta stage under passt's name", argv: []string{"/usr/bin/passt", "-q"}, pastaStage: true, mode: policy.ModePasta, args: []string{"-q"}},
		{name: "nsinit keeps its argv", argv: []string{"pasta-nsinit", "--gopasst-mode=passt"}, pastaStage: true, mode: policy.ModePasta, args: []string{"--gopasst-mode=passt"}},
		{name: "passt stage under pasta's name", argv: []string{"pasta", "-f"}, passtStage: true, mode: policy.ModePasst, args: []string{"-f"}},
		{name: "empty argv", argv: nil, mode: policy.ModePasst, args: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode, args, err := chooseMode(tt.argv, tt.pastaStage, tt.passtStage)
			if tt.err {
				if err == nil {
					t.Fatalf("chooseMode(%q) = %v, %q; want an error", tt.argv, mode, args)
				}
				return
			}
			if err != nil {
				t.Fatalf("chooseMode(%q): %v", tt.argv, err)
			}
			if mode != tt.mode || !slices.Equal(args, tt.args) || args == nil {
				t.Errorf("chooseMode(%q) = %v, %q; want %v, %q", tt.argv, mode, args, tt.mode, tt.args)
			}
		})
	}
}
