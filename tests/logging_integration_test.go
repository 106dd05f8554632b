// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// privateDevLog is a shell prologue, run under `unshare -m`, that gives
// the private mount namespace a /dev of its own (a tmpfs holding the
// devices pasta needs) whose /dev/log is the test's socket $SOCK. The
// host's /dev is not touched, and need not have a /dev/log at all.
const privateDevLog = `
set -e
old=$(mktemp -d)
mount --rbind /dev "$old"
mount -t tmpfs -o mode=0755 gopasst-dev /dev
for n in null zero full random urandom tty; do
	touch /dev/$n; mount --bind "$old/$n" /dev/$n
done
mkdir /dev/net; touch /dev/net/tun; mount --bind "$old/net/tun" /dev/net/tun
touch /dev/log; mount --bind "$SOCK" /dev/log
`

// syslogStandIn skips t without the tools it needs, and returns a
// temporary directory and, in it, a datagram socket to bind over /dev/log
// (privateDevLog's $SOCK) with a function that returns the next message
// it receives, or fails t after d.
func syslogStandIn(t *testing.T, tools ...string) (dir, sock string, next func(d time.Duration, want any) string) {
	t.Helper()
	requireRoot(t)
	for _, tool := range append([]string{"unshare", "mount"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir = t.TempDir()
	sock = filepath.Join(dir, "log")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var got []string
	buf := make([]byte, 4096)
	next = func(d time.Duration, want any) string {
		t.Helper()
		ln.SetReadDeadline(time.Now().Add(d))
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no %v in the system log (%v); got %q", want, err, got)
		}
		got = append(got, string(buf[:n]))
		return got[len(got)-1]
	}
	return dir, sock, next
}

// TestIntegrationPastaDaemonSyslog: a daemonized pasta started without -l,
// as podman starts it, sends its messages to the system log. A socket of
// the test's stands in for /dev/log inside a private mount namespace; the
// namespace pasta serves is then deleted, and the message about it, sent
// by the sandboxed engine, must arrive as "<30>pasta[PID]: ...".
func TestIntegrationPastaDaemonSyslog(t *testing.T) {
	dir, sock, next := syslogStandIn(t, "ip")
	pidFile := filepath.Join(dir, "pasta.pid")
	const ns = "gopasst-syslog"
	script := privateDevLog + `
ip netns add ` + ns + `
trap 'ip netns del ` + ns + ` 2>/dev/null || true' EXIT
"$PASTA" --config-net --netns ` + ns + ` --pid "$PIDF"
sleep 0.5
ip netns del ` + ns + `
pid=$(cat "$PIDF")
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
echo "pasta (PID $pid) still runs after its namespace went" >&2
exit 1
`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "PASTA="+pastaBin, "SOCK="+sock, "PIDF="+pidFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	want := regexp.MustCompile(`^<30>pasta\[` + pid + `\]: target namespace gone, exiting$`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := next(time.Until(deadline), want); want.MatchString(m) {
			t.Logf("system log: %q", m)
			return
		}
	}
}

// TestIntegrationPastaLogSize: pasta --trace with -l and --log-size 4096
// logs a line for each of more than 10,000 frames it drops (counted in its
// --pcap capture), and the file, watched all along, never holds more than
// 4096 bytes. The rotation runs
// in the sandboxed engine, so this also shows that the seccomp profile
// allows what it needs (pasta would be killed otherwise).
func TestIntegrationPastaLogSize(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	const max, frames = 4096, 12000
	dir := t.TempDir()
	logFile, pcapFile := filepath.Join(dir, "pasta.log"), filepath.Join(dir, "pasta.pcap")
	// Frames with an EtherType the engine does not handle, each dropped
	// and traced: paced so that the tap queue does not drop them first.
	sender := `
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("gtap0", 0))
f = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x90\x00" + b"\x00" * 46
for i in range(` + strconv.Itoa(frames) + `):
    s.send(f)
    if i % 50 == 49:
        time.sleep(0.002)
`
	done, stop := make(chan struct{}), make(chan struct{})
	var biggest, rotations int64
	go func() {
		defer close(done)
		var last int64
		for {
			select {
			case <-time.After(2 * time.Millisecond):
			case <-stop:
				return
			}
			st, err := os.Stat(logFile)
			if err != nil {
				continue
			}
			if st.Size() > biggest {
				biggest = st.Size()
			}
			if st.Size() < last {
				rotations++
			}
			last = st.Size()
		}
	}()
	_, stderr, status := runPasta(t, nil, nil, "--trace", "-l", logFile, "--log-size", strconv.Itoa(max),
		"-p", pcapFile, "--config-net", "-I", "gtap0", "--", "python3", "-c", sender)
	close(stop)
	<-done
	if status != 0 {
		t.Fatalf("pasta exited with %d\n%s", status, stderr)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	drops := strings.Count(string(b), "msg=drop")
	logged := countEtherType(t, pcapFile, 0x9000) // each one a "drop" line
	t.Logf("%d frames sent, %d read and logged; largest size seen %d bytes, %d rotations seen, final %d bytes with %d drop lines",
		frames, logged, biggest, rotations, len(b), drops)
	if logged < 10000 {
		t.Errorf("only %d frames reached pasta (and its log), want 10,000 or more", logged)
	}
	if biggest > max || len(b) > max {
		t.Errorf("the log file grew to %d bytes (final %d), more than --log-size %d", biggest, len(b), max)
	}
	if drops == 0 || !strings.HasSuffix(string(b), "\n") {
		t.Errorf("the file does not end with whole drop lines:\n%s", b)
	}
	if rotations < 10 {
		t.Errorf("only %d rotations seen: the messages did not go through the file", rotations)
	}
}

// TestIntegrationPasstDaemonSyslog: a daemonized passt without -l logs to
// the system log from its sandboxed process (the --pid one, through the
// socket the launcher connected and handed over): the guest's arrival,
// and a guest sending a frame length of 0, a bad event it reports as a
// warning.
func TestIntegrationPasstDaemonSyslog(t *testing.T) {
	dir, sock, next := syslogStandIn(t, "python3")
	pidFile := filepath.Join(dir, "passt.pid")
	script := privateDevLog + `
"$PASST" -s "$PSOCK" -P "$PIDF" 2>/dev/null
trap 'kill $(cat "$PIDF")' EXIT
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.send(b"\0\0\0\0")
time.sleep(0.5)
' "$PSOCK"
`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "PASST="+passtBin, "SOCK="+sock, "PIDF="+pidFile, "PSOCK="+filepath.Join(dir, "passt.sock"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	want := []*regexp.Regexp{
		regexp.MustCompile(`^<30>passt\[` + pid + `\]: guest connected$`),
		regexp.MustCompile(`^<28>passt\[` + pid + `\]: closing the guest connection: .*zero length`),
	}
	var got []string
	match := make([][]string, len(want))
	deadline := time.Now().Add(3 * time.Second)
	for match[0] == nil || match[1] == nil {
		got = append(got, next(time.Until(deadline), want))
		for i, re := range want {
			if m := re.FindStringSubmatch(got[len(got)-1]); m != nil {
				match[i] = m
			}
		}
	}
	t.Logf("system log: %q", got)
}

// countEtherType returns how many frames of the pcap file at path carry
// EtherType et.
func countEtherType(t *testing.T, path string, et uint16) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const globalHeader, recordHeader = 24, 16
	n := 0
	for off := globalHeader; off+recordHeader <= len(b); {
		caplen := int(binary.LittleEndian.Uint32(b[off+8:]))
		frame := b[off+recordHeader : min(off+recordHeader+caplen, len(b))]
		if len(frame) >= 14 && binary.BigEndian.Uint16(frame[12:]) == et {
			n++
		}
		off += recordHeader + caplen
	}
	return n
}
