// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"strings"
	"testing"
	"time"
)

// TestIntegrationPastaFreebind: -t on addresses the host does not have yet
// fails at start without --freebind ("cannot assign requested address")
// and works with it: once the addresses appear on the host, a client there
// reaches the namespace's server through them, IPv4 and IPv6.
func TestIntegrationPastaFreebind(t *testing.T) {
	requireRoot(t)
	const (
		addr4, addr6 = "198.51.100.7", "2001:db8:9::77"
		port4, port6 = "18301", "18302"
	)
	ns := fakeHostNetns(t, "gpfreeb", "gpfb0", "192.0.2.1", "192.0.2.254", "2001:db8:9::1", "2001:db8:9::fe")
	prefix := []string{"ip", "netns", "exec", ns}
	fwdArgs := []string{"-t", addr4 + "/" + port4, "-t", "[" + addr6 + "]/" + port6, "-u", "none", "-T", "none", "-U", "none"}

	t.Run("without", func(t *testing.T) {
		_, errOut, st := runPasta(t, nil, prefix, append(append([]string{"--config-net"}, fwdArgs...), "--", "true")...)
		if st == 0 || !strings.Contains(string(errOut), "cannot assign requested address") {
			t.Errorf("status %d, want a bind failure; stderr:\n%s", st, errOut)
		}
	})

	t.Run("with", func(t *testing.T) {
		// The server answers one connection on each port, then exits.
		server := `import socket, sys
ls = []
for fam, port in ((socket.AF_INET, ` + port4 + `), (socket.AF_INET6, ` + port6 + `)):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port)); s.listen(1); s.settimeout(10); ls.append(s)
print("ready", flush=True)
for s in ls:
    c, _ = s.accept(); c.sendall(b"ns-%d\n" % s.getsockname()[1]); c.close()
`
		argv := append(append(append([]string{}, prefix...), pastaBin, "--freebind", "--config-net"), fwdArgs...)
		argv = append(argv, "--", "python3", "-c", server)
		cmd, done, errOut := startPastaReady(t, argv...)
		// pasta bound its listeners before it let the command run: only
		// now do the addresses appear on the host.
		mustRun(t, "ip", "-n", ns, "addr", "add", addr4+"/32", "dev", "lo")
		mustRun(t, "ip", "-n", ns, "-6", "addr", "add", addr6+"/128", "dev", "lo", "nodad")
		for _, c := range []struct{ addr, want string }{
			{addr4 + ":" + port4, "ns-" + port4},
			{"[" + addr6 + "]:" + port6, "ns-" + port6},
		} {
			if got := dialInNetns(t, prefix, c.addr); got != c.want {
				t.Errorf("host → %s: got %q, want %q; stderr:\n%s", c.addr, got, c.want, errOut.Bytes())
			}
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("pasta did not end after the server")
		}
		if st := cmd.ProcessState.ExitCode(); st != 0 {
			t.Errorf("status %d; stderr:\n%s", st, errOut.Bytes())
		}
	})
}
