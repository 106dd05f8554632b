// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

// A real rootless podman 5.8.2 whose pasta is gopasst's, run as
// ../shared/podman/README.md says works here: an unprivileged user with
// subordinate IDs, vfs storage, runc, cgroupfs, helper_binaries_dir
// naming the directory of the pasta under test, a busybox root file
// system given with --rootfs (nothing can be pulled), and a network
// namespace with a veth, addresses and default routes playing the host,
// entered with nsenter plus a private mount namespace (ip netns exec
// would remount /sys and hide the cgroup v1 hierarchy from runc). The
// private mount namespace also carries a bind-mounted /etc/resolv.conf
// naming the test's DNS responder.

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake host's addresses, and the host's resolver (on its loopback,
// as systemd-resolved's stub).
const (
	pmNs       = "gppodman"
	pmUser     = "gppodman"
	pmAddr4    = "10.88.1.5"
	pmGw4      = "10.88.1.1"
	pmAddr6    = "2001:db8:88::5"
	pmGw6      = "2001:db8:88::1"
	pmResolver = "127.0.0.53"
	pmSubIDs   = "300000-365535"
)

var (
	podmanOnce sync.Once
	podmanPath string
	podmanErr  error
)

// podmanArchive finds podman-5.8.2.xz: $GOPASST_PODMAN, else
// shared/podman beside the repository (CI's copy of shared/), else
// /work/shared/podman.
func podmanArchive() string {
	if p := os.Getenv("GOPASST_PODMAN"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../../shared/podman/podman-5.8.2.xz"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/work/shared/podman/podman-5.8.2.xz"
}

// podmanBin unpacks podman into binDir once per run.
func podmanBin(t *testing.T) string {
	t.Helper()
	podmanOnce.Do(func() {
		src := podmanArchive()
		podmanPath = filepath.Join(binDir, "podman5")
		out, err := os.Create(podmanPath)
		if err != nil {
			podmanErr = err
			return
		}
		defer out.Close()
		cmd := exec.Command("xz", "-dc", src)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = out, &stderr
		if err := cmd.Run(); err != nil {
			podmanErr = fmt.Errorf("xz -dc %s: %v: %s", src, err, stderr.Bytes())
			return
		}
		podmanErr = out.Chmod(0o755)
	})
	if podmanErr != nil {
		t.Fatal(podmanErr)
	}
	return podmanPath
}

// podmanEnv is a rootless podman user in a fake host namespace.
type podmanEnv struct {
	bin    string
	ns     string
	home   string
	rootfs string
	resolv string
	nsSock func(domain, typ, proto int) (int, error)
}

// newPodmanEnv creates the user (with subordinate IDs), its home with
// podman's configuration, a busybox root file system holding echod, the
// fake host namespace and its resolv.conf. Everything is undone on
// cleanup: processes left in the namespace are killed by PID, the user
// is removed, /dev/net/tun gets its mode back.
func newPodmanEnv(t *testing.T) *podmanEnv {
	t.Helper()
	requireRoot(t)
	for _, bin := range []string{"runc", "conmon", "newuidmap", "busybox", "catatonit"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed (./dev deps installs it): %v", bin, err)
		}
	}
	e := &podmanEnv{bin: podmanBin(t)}
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755) // the user walks through it
	os.Chmod(base, 0o755)
	e.home = filepath.Join(base, "home")
	uid, gid := subIDUser(t, pmUser, e.home, pmSubIDs)

	conf := filepath.Join(e.home, ".config", "containers")
	e.rootfs = filepath.Join(e.home, "rootfs")
	for _, d := range []string{conf, filepath.Join(e.home, "run"), filepath.Join(e.rootfs, "bin"),
		filepath.Join(e.rootfs, "etc"), filepath.Join(e.rootfs, "www"), filepath.Join(e.rootfs, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, s string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(conf, "storage.conf"), "[storage]\ndriver = \"vfs\"\n", 0o644)
	write(filepath.Join(conf, "containers.conf"), fmt.Sprintf(`[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
helper_binaries_dir = [%q, "/usr/lib/podman"]
`, binDir), 0o644)
	write(filepath.Join(e.rootfs, "www", "index.html"), "hello from the container\n", 0o644)
	copyFile(t, "/usr/bin/busybox", filepath.Join(e.rootfs, "bin", "busybox"))
	copyFile(t, echodBin(t), filepath.Join(e.rootfs, "bin", "echod"))
	out, err := exec.Command("/usr/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			os.Symlink("busybox", filepath.Join(e.rootfs, "bin", applet))
		}
	}
	mustRun(t, "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), e.home)
	os.Chmod(filepath.Join(e.home, "run"), 0o700)
	e.resolv = filepath.Join(base, "resolv.conf")
	write(e.resolv, "nameserver "+pmResolver+"\n", 0o644)

	e.ns = fakeHostNetns(t, pmNs, "hv0", pmAddr4, pmGw4, pmAddr6, pmGw6)
	e.nsSock = udpNsSocket(t, "/run/netns/"+e.ns)
	// Containers still running at the end go first, while podman works.
	t.Cleanup(func() {
		if _, err := e.podman(30*time.Second, "rm", "-a", "-f", "-t", "0"); err != nil {
			t.Logf("podman rm -a: %v", err)
		}
	})
	return e
}

// subIDUser creates an unprivileged user with home directory home (not
// created) and subordinate IDs subIDs ("FIRST-LAST") for its user
// namespaces, and makes /dev/net/tun usable by it (mode 0666), undoing
// both on cleanup.
func subIDUser(t *testing.T, name, home, subIDs string) (uid, gid int) {
	t.Helper()
	exec.Command("userdel", "-f", name).Run()
	mustRun(t, "useradd", "-M", "-d", home, "-s", "/bin/sh", name)
	t.Cleanup(func() { exec.Command("userdel", "-f", name).Run() })
	mustRun(t, "usermod", "--add-subuids", subIDs, "--add-subgids", subIDs, name)
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	st, err := os.Stat("/dev/net/tun")
	if err != nil {
		t.Fatalf("no /dev/net/tun: %v", err)
	}
	if err := os.Chmod("/dev/net/tun", 0o666); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod("/dev/net/tun", st.Mode().Perm()) })
	return uid, gid
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// podman runs podman as the user in the fake host namespace, bounded by
// d, and returns its combined output without cgroup v1 warnings.
func (e *podmanEnv) podman(d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	argv := []string{"--net=/run/netns/" + e.ns, "unshare", "-m", "--propagation", "private",
		"sh", "-c", `mount --bind "$0" /etc/resolv.conf && h="$1" p="$2" && shift 2 && exec setpriv --reuid ` +
			pmUser + ` --regid ` + pmUser + ` --clear-groups env -i HOME="$h" XDG_RUNTIME_DIR="$h/run" ` +
			`PODMAN_IGNORE_CGROUPSV1_WARNING=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$p" "$@"`,
		e.resolv, e.home, e.bin}
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, "nsenter", argv...)
	cmd.Dir = "/"
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.Contains(l, "cgroups-v1") && !strings.Contains(l, "is not a shared mount") {
			keep = append(keep, l)
		}
	}
	s := strings.TrimSpace(strings.Join(keep, "\n"))
	if ctx.Err() != nil {
		return s, fmt.Errorf("podman %v: timed out after %v: %s", args, d, s)
	}
	if err != nil {
		return s, fmt.Errorf("podman %v: %v: %s", args, err, s)
	}
	return s, nil
}

// mustPodman is podman that fails the test on error.
func (e *podmanEnv) mustPodman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.podman(60*time.Second, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// run starts a detached container on the busybox root with --network
// net and extra options, running sh -c script, and returns its ID.
func (e *podmanEnv) run(t *testing.T, net string, extra []string, script string) string {
	t.Helper()
	args := append([]string{"run", "-d", "--network", net}, extra...)
	args = append(args, "--rootfs", e.rootfs, "sh", "-c", script)
	return strings.TrimSpace(e.mustPodman(t, args...))
}

// pastas returns the PIDs of live pasta processes in the fake host
// namespace (named pasta, or running the binary under test, which pasta
// links to and re-executes), each with the binary it runs.
func (e *podmanEnv) pastas(t *testing.T) map[int]string {
	t.Helper()
	ours, _ := filepath.EvalSymlinks(pastaBin)
	out, _ := exec.Command("ip", "netns", "pids", e.ns).Output()
	m := map[int]string{}
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil || exited(pid) {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if strings.TrimSpace(string(comm)) == "pasta" || (exe != "" && exe == ours) {
			m[pid] = exe
		}
	}
	return m
}

// waitNoPasta waits up to d until no pasta is left in the namespace.
func (e *podmanEnv) waitNoPasta(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		p := e.pastas(t)
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pasta left after %v: %v", d, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hostAddrPort is address a, port port.
func hostAddrPort(a string, port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(a), uint16(port))
}
