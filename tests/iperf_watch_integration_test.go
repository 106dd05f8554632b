// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// iperfHang says where an iperf3 client that did not finish in time was
// blocked: the system call it sat in (from /proc/PID/syscall) and the
// kernel function it waited in (/proc/PID/wchan).
type iperfHang struct {
	syscall int    // -1 when unknown (the process ran, or had gone)
	wchan   string // e.g. "__skb_wait_for_more_packets", "do_select"
}

// inUDPConnect reports whether the client sat in recvfrom(2): iperf3
// 3.12 (Debian 12's) waits for the server's one-datagram reply to its
// one-datagram "connect" with a blocking recv and no retry, so one lost
// datagram, or a stray one the server's fresh listener takes for the
// connect, stops it for good (later iperf3 retries: --udp-retry). Its
// test loop waits in select(2) and its control reads follow select.
func (h iperfHang) inUDPConnect() bool { return h.syscall == unix.SYS_RECVFROM }

func (h iperfHang) String() string {
	return fmt.Sprintf("blocked in system call %d (wchan %s)", h.syscall, h.wchan)
}

// runIperfWatched runs an iperf3 client (cmd, which execs iperf3 in place:
// ip netns exec or nsenter) for at most d. It returns its standard
// output; when it did not finish, also where it was blocked, read before
// it is killed, and the sockets of the namespaces in nsPrefixes (each an
// argv prefix running a command in one), for the log.
func runIperfWatched(cmd *exec.Cmd, d time.Duration, nsPrefixes ...[]string) (out []byte, hang *iperfHang, diag string) {
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		return nil, nil, err.Error()
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return stdout.Bytes(), nil, ""
	case <-time.After(d):
	}
	pid := cmd.Process.Pid
	h := &iperfHang{syscall: -1}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid)); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				h.syscall = n
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid)); err == nil {
		h.wchan = string(b)
	}
	var sb strings.Builder
	for _, p := range nsPrefixes {
		argv := append(append([]string{}, p...), "ss", "-tuanp")
		o, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		fmt.Fprintf(&sb, "%s:\n%s", strings.Join(p, " "), o)
	}
	cmd.Process.Kill()
	<-done
	return stdout.Bytes(), h, sb.String()
}

// runIperfClient runs the iperf3 client mk makes, watched for d
// (runIperfWatched), and says whether it hung. For ours (the
// implementation under test, not upstream's, which is only reported), a
// client that hung in iperf3 3.12's UDP connect is said and run once
// more, and a hang that remains is logged with where it sat and the
// sockets of the namespaces in nsPrefixes.
func runIperfClient(t *testing.T, label string, mk func() *exec.Cmd, d time.Duration, ours bool, nsPrefixes ...[]string) (out []byte, hung bool) {
	t.Helper()
	out, hang, diag := runIperfWatched(mk(), d, nsPrefixes...)
	if hang != nil && hang.inUDPConnect() && ours {
		t.Logf("%s: iperf3 %v; sockets:\n%s\ntrying once more", label, hang, diag)
		out, hang, diag = runIperfWatched(mk(), d, nsPrefixes...)
	}
	if hang != nil && ours {
		t.Logf("%s: iperf3 %v; sockets:\n%s", label, hang, diag)
	}
	return out, hang != nil
}
