// SPDX-License-Identifier: GPL-2.0-or-later

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The syscall numbers of every architecture come from golang.org/x/sys's
// generated tables (unix/zsysnum_linux_<goarch>.go, made from the kernel's
// headers), read as source since only the build host's table is compiled
// in. They name the numbers the emitter uses and the test tables; for the
// architectures libseccomp compiles, its own numbers must agree.

var sysnumLine = regexp.MustCompile(`(?m)^\s*SYS_([A-Z0-9_]+)\s*=\s*(\d+)\s*$`)

// xsysDir returns the directory of golang.org/x/sys in the module cache.
func xsysDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m golang.org/x/sys: %w", err)
	}
	dir := string(bytes.TrimSpace(out))
	if dir == "" {
		return "", fmt.Errorf("golang.org/x/sys is not in the module cache (go mod download)")
	}
	return dir, nil
}

// loadSysnums reads the syscall table of goarch: kernel name → number.
func loadSysnums(xsys, goarch string) (map[string]uint32, error) {
	src, err := os.ReadFile(filepath.Join(xsys, "unix", "zsysnum_linux_"+goarch+".go"))
	if err != nil {
		return nil, err
	}
	nums := map[string]uint32{}
	for _, m := range sysnumLine.FindAllSubmatch(src, -1) {
		n, err := strconv.ParseUint(string(m[2]), 10, 32)
		if err != nil {
			return nil, err
		}
		nums[strings.ToLower(string(m[1]))] = uint32(n)
	}
	if len(nums) < 200 {
		return nil, fmt.Errorf("zsysnum_linux_%s.go: only %d syscalls found", goarch, len(nums))
	}
	return nums, nil
}
