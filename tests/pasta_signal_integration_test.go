// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationPastaSignals: SIGTERM, SIGINT or SIGHUP to a foreground
// "pasta --config-net -- CMD" ends it within a second, and no process of
// its tree is left, although CMD is PID 1 of its PID namespace and,
// without a handler, never sees the signal: pasta kills it then and exits
// with 128+signal. A command that handles the signal ends by itself, with
// its own status (TestIntegrationPastaForwardsSIGTERM).
func TestIntegrationPastaSignals(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name string
		sig  syscall.Signal
		cmd  []string
		seen []string // the command line to wait for before the signal
		want int      // exit status
	}{
		{"TERM sleep", syscall.SIGTERM, []string{"sleep", "60"}, []string{"sleep", "60"}, 143},
		{"INT shell with children", syscall.SIGINT,
			[]string{"sh", "-c", "sleep 61 & sleep 62; :"}, []string{"sleep", "62"}, 130},
		{"HUP shell with a handler", syscall.SIGHUP,
			[]string{"sh", "-c", "trap 'exit 3' HUP; sleep 63 & wait"}, []string{"sleep", "63"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--config-net", "-t", "none", "-u", "none", "-T", "none", "-U", "none", "--"}, tt.cmd...)
			// env(1) execs pasta (same PID) with SIGHUP at its default:
			// under nohup the test's own SIGHUP is ignored, the shell
			// inherits that, and POSIX shells cannot trap a signal
			// ignored on entry.
			cmd := exec.Command("env", append([]string{"--default-signal=HUP", pastaBin}, args...)...)
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			cmd.Dir = "/"
			done := startWait(t, cmd)
			if findChild(cmd.Process.Pid, tt.seen, 10*time.Second) == 0 {
				t.Fatalf("%v never ran; stderr:\n%s", tt.seen, errOut.Bytes())
			}
			tree := descendants(cmd.Process.Pid)
			if len(tree) < 2 {
				t.Fatalf("process tree %v: want the engine and the command at least", tree)
			}
			t.Cleanup(func() {
				for _, p := range tree {
					if !exited(p) {
						syscall.Kill(p, syscall.SIGKILL)
					}
				}
			})

			start := time.Now()
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("pasta still running 5 s after SIG%s; stderr:\n%s", tt.name, errOut.Bytes())
			}
			elapsed := time.Since(start)
			if st := cmd.ProcessState.ExitCode(); st != tt.want {
				t.Errorf("status %d, want %d; stderr:\n%s", st, tt.want, errOut.Bytes())
			}
			if elapsed > time.Second {
				t.Errorf("pasta took %v to end, want at most 1 s", elapsed)
			}
			for _, p := range tree {
				if !waitExited(p, 200*time.Millisecond) {
					t.Errorf("process %d (%s) of pasta's tree %v left running", p, cmdline(p), tree)
				}
			}
			t.Logf("ended in %v, status %d, tree %v gone", elapsed.Round(time.Millisecond), cmd.ProcessState.ExitCode(), tree)
		})
	}
}

// descendants returns every process below pid (children, grandchildren,
// ...), by their PPid.
func descendants(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err == nil && p != pid && descends(p, pid) {
			out = append(out, p)
		}
	}
	return out
}

// cmdline returns pid's command line with blanks for NULs, or "".
func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '}))
}
