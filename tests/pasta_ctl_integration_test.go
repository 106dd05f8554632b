// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationPastaControlSocket: pasta -c SOCK with no forwarding at
// start; a server in the namespace. From the (fake) host, a client's
// connect is refused; pesto adds -t PORT at run time and the same client
// gets the server's greeting through the tap; pesto lists the rule;
// pesto removes it and the client's connect is refused again, while
// pasta keeps running.
func TestIntegrationPastaControlSocket(t *testing.T) {
	requireRoot(t)
	prefix := fakeDualStackHost(t, "gpctlhost")
	const port = 18197
	pesto := filepath.Join(binDir, "pesto")
	if b, err := exec.Command("go", "build", "-o", pesto, "gopasst/cmd/pesto").CombinedOutput(); err != nil {
		t.Fatalf("build pesto: %v\n%s", err, b)
	}
	sock := filepath.Join(t.TempDir(), "pasta.sock")

	inNs := fmt.Sprintf(`
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(8); s.settimeout(20)
print("NS-LISTENING", flush=True)
try:
    while True:
        c, _ = s.accept(); c.sendall(b"from-ns\n"); c.close()
except socket.timeout:
    pass
`, port)
	pasta := command(append(append([]string{}, prefix...), pastaBin, "-c", sock, "--config-net",
		"-t", "none", "-u", "none", "-T", "none", "-U", "none", "--", "python3", "-c", inNs)...)
	var out strings.Builder
	pasta.Stdout, pasta.Stderr = &out, &out
	// The namespace's server holds the output pipe until it ends.
	pasta.WaitDelay = time.Second
	if err := pasta.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { pasta.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			pasta.Process.Kill()
			<-exited
		}
	})

	run := func(args ...string) (string, error) {
		b, err := exec.Command(pesto, args...).CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
	// The socket answers once pasta runs, and lists no rule.
	var list string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if list, err = run(sock); err == nil {
			break
		}
	}
	if err != nil || list != "" {
		t.Fatalf("pesto %s: %q, %v\n%s", sock, list, err, out.String())
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(out.String(), "NS-LISTENING"); {
		time.Sleep(50 * time.Millisecond)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if got := hostConnect(t, prefix, addr); got != "REFUSED" {
		t.Fatalf("before add: %q, want REFUSED\n%s", got, out.String())
	}

	if msg, err := run("-A", "-t", fmt.Sprint(port), sock); err != nil {
		t.Fatalf("pesto -A -t %d: %v: %s\n%s", port, err, msg, out.String())
	}
	if got := hostConnect(t, prefix, addr); got != "from-ns" {
		t.Errorf("after add: %q, want from-ns\n%s", got, out.String())
	}
	if list, err = run(sock); err != nil || list != fmt.Sprintf("rule -t %d", port) {
		t.Errorf("pesto list after add: %q, %v", list, err)
	}
	if msg, err := run("-A", "-t", "auto", sock); err == nil || !strings.Contains(msg, "explicit ports") {
		t.Errorf("pesto -A -t auto: %v: %s", err, msg)
	}

	if msg, err := run("-D", "-t", fmt.Sprint(port), sock); err != nil {
		t.Fatalf("pesto -D -t %d: %v: %s", port, err, msg)
	}
	if got := hostConnect(t, prefix, addr); got != "REFUSED" {
		t.Errorf("after del: %q, want REFUSED", got)
	}
	if list, err = run(sock); err != nil || list != "" {
		t.Errorf("pesto list after del: %q, %v", list, err)
	}
	select {
	case <-exited:
		t.Errorf("pasta exited early:\n%s", out.String())
	default:
	}
	// SIGTERM goes to the command; pasta exits with it.
	pasta.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Errorf("pasta still running 5 s after SIGTERM")
	}
}

// hostConnect connects to addr from the namespace prefix runs commands
// in: the first line received, "REFUSED" if the connection was refused,
// "" on anything else.
func hostConnect(t *testing.T, prefix []string, addr string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	out, _ := command(append(append([]string{}, prefix...), "python3", "-c", fmt.Sprintf(`
import socket
try:
    c = socket.create_connection(("%s", %s), timeout=2); print(c.recv(64).decode().strip())
except ConnectionRefusedError:
    print("REFUSED")
except Exception as e:
    print("ERR", e)
`, host, port))...).Output()
	return strings.TrimSpace(string(out))
}
