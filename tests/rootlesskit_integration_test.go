// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// rootlesskitVersion is the release the test installs through the Go
// module proxy (its command line to pasta is what rootless Docker and
// nerdctl use).
const rootlesskitVersion = "v2.3.6"

var (
	rkOnce sync.Once
	rkPath string
	rkErr  error
)

// rootlesskitBin returns $GOPASST_ROOTLESSKIT, else builds rootlesskit
// with "go install" into /tmp/gopasst-rootlesskit-VERSION once (kept
// between runs: the build takes about a minute).
func rootlesskitBin(t *testing.T) string {
	t.Helper()
	rkOnce.Do(func() {
		if p := os.Getenv("GOPASST_ROOTLESSKIT"); p != "" {
			rkPath = p
			return
		}
		dir := "/tmp/gopasst-rootlesskit-" + rootlesskitVersion
		rkPath = filepath.Join(dir, "rootlesskit")
		if _, err := os.Stat(rkPath); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install",
			"github.com/rootless-containers/rootlesskit/v2/cmd/rootlesskit@"+rootlesskitVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			rkErr = fmt.Errorf("go install rootlesskit: %v: %s", err, out)
		}
		os.Chmod(dir, 0o755)
	})
	if rkErr != nil {
		t.Fatal(rkErr)
	}
	return rkPath
}

// TestIntegrationRootlesskitPasta runs rootlesskit v2 --net=pasta
// --port-driver=implicit (it passes --tcp-ports=auto --udp-ports=auto
// --host-lo-to-ns-lo to pasta) as an unprivileged user with gopasst's
// pasta, with and without --disable-host-loopback (--no-map-gw): the
// child has its address and route, reaches the host's address, reaches
// the host's loopback through the gateway only when allowed, and a TCP
// and UDP service it starts is reachable from the host's loopback and
// address (auto forwarding).
func TestIntegrationRootlesskitPasta(t *testing.T) {
	requireRoot(t)
	rk := rootlesskitBin(t)
	const (
		user              = "gprootlesskit"
		hostAddr          = "10.66.1.5"
		hostPort, fwdPort = 7010, 7020
	)
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chmod(base, 0o755)
	home := filepath.Join(base, "home")
	uid, gid := subIDUser(t, user, home, "420000-485535")
	os.MkdirAll(filepath.Join(home, "run"), 0o700)
	mustRun(t, "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), home)
	ns := fakeHostNetns(t, "gprkhost", "up0", hostAddr, "10.66.1.1", "2001:db8:66::5", "2001:db8:66::1")
	hostSock := udpNsSocket(t, "/run/netns/"+ns)
	echod := echodBin(t)
	startBG(t, exec.Command("nsenter", "--net=/run/netns/"+ns, echod,
		"-tcp", fmt.Sprint(hostPort), "-udp", fmt.Sprint(hostPort)))
	waitListening(t, []string{"nsenter", "--net=/run/netns/" + ns}, "-ltn", hostPort, 5*time.Second)

	child := fmt.Sprintf(`
ip -4 addr show tap0; ip -4 route
echo "GW: $(echo via-gateway | timeout 3 socat -t 2 - TCP:10.0.2.2:%[1]d 2>&1)"
echo "HOSTADDR: $(echo via-host-address | timeout 3 socat -t 2 - TCP:%[2]s:%[1]d 2>&1)"
%[3]s -tcp %[4]d -udp %[4]d 2>/dev/null &
e=$!
sleep 6
kill $e
`, hostPort, hostAddr, echod, fwdPort)

	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("disable-host-loopback=%v", disable), func(t *testing.T) {
			args := []string{"--net=pasta", "--pasta-binary=" + pastaBin, "--port-driver=implicit", "--copy-up=/etc"}
			if disable {
				args = append(args, "--disable-host-loopback")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			argv := append([]string{"--net=/run/netns/" + ns, "setpriv", "--reuid", user, "--regid", user,
				"--clear-groups", "env", "-i", "HOME=" + home, "XDG_RUNTIME_DIR=" + filepath.Join(home, "run"),
				"PATH=/usr/sbin:/usr/bin:/sbin:/bin", rk}, args...)
			argv = append(argv, "sh", "-c", child)
			cmd := exec.CommandContext(ctx, "nsenter", argv...)
			cmd.Dir = "/"
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.WaitDelay = 2 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()

			// The child's service, forwarded by pasta's auto mode.
			for _, a := range []string{"127.0.0.1", hostAddr} {
				dst := netip.AddrPortFrom(netip.MustParseAddr(a), fwdPort)
				c := nsUDPConn(t, hostSock, dst)
				if err := udpExchange(c, []byte("udp to the child via "+a), 30, 200*time.Millisecond); err != nil {
					t.Errorf("UDP port forward %v: %v", dst, err)
				}
				c.Close()
				if err := tcpEchoFrom(t, hostSock, dst, "tcp to the child via "+a); err != nil {
					t.Errorf("TCP port forward %v: %v", dst, err)
				}
			}
			if err := <-done; err != nil {
				t.Errorf("rootlesskit: %v", err)
			}
			s := out.String()
			for _, want := range []string{"inet 10.0.2.100/24", "default via 10.0.2.2", "HOSTADDR: via-host-address"} {
				if !strings.Contains(s, want) {
					t.Errorf("child lacks %q", want)
				}
			}
			if gw := strings.Contains(s, "GW: via-gateway"); gw == disable {
				t.Errorf("host loopback through the gateway reached: %v, want %v", gw, !disable)
			}
			if t.Failed() {
				t.Logf("rootlesskit output:\n%s", s)
			}
		})
	}
}

// tcpEchoFrom connects to dst from the namespace nsSock opens sockets in,
// sends msg and expects it back, retrying for a few seconds while the
// forward is not there yet.
func tcpEchoFrom(t *testing.T, nsSock func(domain, typ, proto int) (int, error), dst netip.AddrPort, msg string) error {
	t.Helper()
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		c, err := nsTCPDial(nsSock, dst)
		if err != nil {
			last = err
			continue
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte(msg))
		buf := make([]byte, len(msg))
		n, err := readFull(c, buf)
		c.Close()
		if err == nil && bytes.Equal(buf[:n], []byte(msg)) {
			return nil
		}
		last = fmt.Errorf("echo: %d bytes, %v", n, err)
	}
	return last
}
