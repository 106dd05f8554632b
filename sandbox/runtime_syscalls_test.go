// SPDX-License-Identifier: GPL-2.0-or-later

//go:build linux

package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopasst/sandbox/profile"
)

// runtimeNotAfterFilter are the syscalls the Go runtime's Linux code
// names (runtime/sys_linux_*.s, internal/runtime/syscall/linux) that a
// filtered gopasst process (a daemon or a waiting launcher) does not make,
// with the reason. Everything else the runtime names must be allowed on
// that architecture in every mode, the waiter's included.
// A Go upgrade that adds a runtime syscall fails TestRuntimeSyscallsCovered
// until the profile or this list says what it is.
var runtimeNotAfterFilter = map[string]string{
	"open":            "start-up only (auxv, cgroup and /sys files before main)",
	"openat":          "as open",
	"access":          "start-up only",
	"faccessat":       "start-up only",
	"uname":           "start-up only (kernel version checks)",
	"brk":             "not used by the Go allocator",
	"mincore":         "start-up only (page size probe)",
	"pipe2":           "netpoll break fd: created before the filter (Enter's warm-up)",
	"eventfd2":        "as pipe2",
	"epoll_create1":   "as pipe2; in [denied]",
	"epoll_pwait2":    "defined, not called by netpoll",
	"mprotect":        "cgo only; in [denied]",
	"arch_prctl":      "amd64 start-up: thread-local storage of m0",
	"setitimer":       "CPU profiling only",
	"setittimer":      "as setitimer (the amd64 and 386 runtime's spelling of its constant)",
	"timer_create":    "CPU profiling only",
	"timer_settime":   "CPU profiling only",
	"timer_settime64": "CPU profiling only",
	"timer_delete":    "CPU profiling only",
	"kill":            "crash path (raiseproc re-raising a fatal signal); allowed in pasta and waiter",
	"fcntl":           "start-up only (checkfds: F_GETFD on fds 0-2); allowed in passt and pasta with argument checks",
	"socket":          "Android's log socket only; allowed with argument checks",
	"connect":         "Android's log socket only; allowed",
	"socketcall":      "386: Android's log socket only; allowed with argument checks",
	"pselect6":        "riscv64: defined, not called",
}

// runtimeSysFiles are the runtime sources that define one architecture's
// syscall numbers.
func runtimeSysFiles(goroot, arch string) []string {
	asm := arch
	switch arch {
	case "ppc64le":
		asm = "ppc64x"
	case "mips64le":
		asm = "mips64x"
	}
	return []string{
		filepath.Join(goroot, "src", "runtime", "sys_linux_"+asm+".s"),
		filepath.Join(goroot, "src", "internal", "runtime", "syscall", "linux", "defs_linux_"+asm+".go"),
	}
}

var runtimeSysName = regexp.MustCompile(`(?m)(?:#define\s+SYS_(\w+)\s|^\s*SYS_(\w+)\s*=)`)

// TestRuntimeSyscallsCovered checks, for every architecture, that each
// syscall the Go runtime names is allowed there in every mode or listed in
// runtimeNotAfterFilter.
func TestRuntimeSyscallsCovered(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go tool")
	}
	goroot := strings.TrimSpace(string(out))
	p := loadProfile(t)
	used := map[string]bool{}
	for _, a := range profile.Arches {
		var names []string
		for _, f := range runtimeSysFiles(goroot, a.Name) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Skipf("Go sources not installed: %v", err)
			}
			for _, m := range runtimeSysName.FindAllStringSubmatch(string(src), -1) {
				name := strings.ToLower(m[1] + m[2])
				if name != "base" && !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		}
		if len(names) < 20 {
			t.Fatalf("%s: only %d runtime syscalls found in %v", a.Name, len(names), runtimeSysFiles(goroot, a.Name))
		}
		for _, m := range modes {
			rules := p.ArchRules(m.name, a.Name)
			for _, name := range names {
				if _, ok := runtimeNotAfterFilter[name]; ok {
					used[name] = true
					continue
				}
				if !slices.ContainsFunc(rules, func(r profile.Rule) bool { return r.Syscall == name }) {
					t.Errorf("%s/%s: the Go runtime names %s, which the profile does not allow there (allow it, or explain it in runtimeNotAfterFilter)", a.Name, m.name, name)
				}
			}
		}
	}
	for name := range runtimeNotAfterFilter {
		if !used[name] {
			t.Errorf("runtimeNotAfterFilter lists %s, which no architecture's runtime names any more", name)
		}
	}
}
