// SPDX-License-Identifier: GPL-2.0-or-later

//go:build integration

package tests

import (
	"strings"
	"testing"
)

// TestIntegrationPastaOutboundIf: --outbound-if4/--outbound-if6 bind
// outbound sockets to the named interface. A fake host has two uplinks,
// each to its own upstream namespace serving the same addresses: the
// default route (lower metric) goes through gpo0, a second one through
// gpo1. From pasta's namespace, TCP (IPv4 and IPv6), UDP and ping reach
// the upstream of gpo0 by default, and that of gpo1 with the options
// (the ping target exists only behind gpo1).
func TestIntegrationPastaOutboundIf(t *testing.T) {
	requireRoot(t)
	host := addNetns(t, "gpobh")
	up := []string{addNetns(t, "gpob0"), addNetns(t, "gpob1")}
	nets := []struct{ host4, peer4, host6, peer6 string }{
		{"192.0.2.1", "192.0.2.254", "2001:db8:a::1", "2001:db8:a::fe"},
		{"198.51.100.1", "198.51.100.254", "2001:db8:b::1", "2001:db8:b::fe"},
	}
	mustRun(t, "ip", "-n", host, "link", "set", "lo", "up")
	for i, n := range nets {
		link, peer, metric := "gpo"+string(rune('0'+i)), "gpo"+string(rune('0'+i))+"p", []string{"100", "200"}[i]
		for _, argv := range [][]string{
			{"-n", host, "link", "add", link, "type", "veth", "peer", "name", peer, "netns", up[i]},
			{"-n", host, "link", "set", link, "up"},
			{"-n", host, "addr", "add", n.host4 + "/24", "dev", link},
			{"-n", host, "-6", "addr", "add", n.host6 + "/64", "dev", link, "nodad"},
			{"-n", host, "route", "add", "default", "via", n.peer4, "metric", metric},
			{"-n", host, "-6", "route", "add", "default", "via", n.peer6, "dev", link, "metric", metric},
			{"-n", up[i], "link", "set", "lo", "up"},
			{"-n", up[i], "link", "set", peer, "up"},
			{"-n", up[i], "addr", "add", n.peer4 + "/24", "dev", peer},
			{"-n", up[i], "-6", "addr", "add", n.peer6 + "/64", "dev", peer, "nodad"},
			{"-n", up[i], "addr", "add", "203.0.113.5/32", "dev", "lo"},
			{"-n", up[i], "-6", "addr", "add", "2001:db8:f::5/128", "dev", "lo"},
			{"-n", up[i], "route", "add", "default", "via", n.host4},
			{"-n", up[i], "-6", "route", "add", "default", "via", n.host6, "dev", peer},
		} {
			mustRun(t, append([]string{"ip"}, argv...)...)
		}
		// Each upstream answers with its name: TCP on both families,
		// UDP on IPv4, for up to 20 s.
		server := `import socket, select, sys, time
name = sys.argv[1].encode()
t4 = socket.socket(socket.AF_INET); t6 = socket.socket(socket.AF_INET6)
t6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for s, a in ((t4, "203.0.113.5"), (t6, "2001:db8:f::5"), (u4, "203.0.113.5")):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((a, 18401))
t4.listen(4); t6.listen(4)
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([t4, t6, u4], [], [], 1)
    for s in r:
        if s is u4:
            d, p = s.recvfrom(100); s.sendto(name, p)
        else:
            c, _ = s.accept(); c.sendall(name); c.close()
`
		srv := command("ip", "netns", "exec", up[i], "python3", "-c", server, "via-"+string(rune('0'+i)))
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	}
	mustRun(t, "ip", "-n", up[1], "addr", "add", "203.0.113.9/32", "dev", "lo") // ping target: behind gpo1 only
	mustRun(t, "ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")

	client := `import socket, subprocess, time
time.sleep(0.5)
out = []
for fam, addr in ((socket.AF_INET, "203.0.113.5"), (socket.AF_INET6, "2001:db8:f::5")):
    try:
        s = socket.create_connection((addr, 18401), timeout=3); out.append(s.recv(16).decode())
    except Exception as e:
        out.append("tcp-error")
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
    u.sendto(b"hi", ("203.0.113.5", 18401)); out.append(u.recv(16).decode())
except Exception:
    out.append("udp-error")
r = subprocess.run(["ping", "-c1", "-W2", "203.0.113.9"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out.append("ping-ok" if r.returncode == 0 else "ping-fail")
print(" ".join(out))
`
	prefix := []string{"ip", "netns", "exec", host}
	base := []string{"--config-net", "-t", "none", "-u", "none", "-T", "none", "-U", "none"}
	for _, tt := range []struct {
		name string
		opts []string
		want string
	}{
		{"default route", nil, "via-0 via-0 via-0 ping-fail"},
		{"outbound-if gpo1", []string{"--outbound-if4", "gpo1", "--outbound-if6", "gpo1"}, "via-1 via-1 via-1 ping-ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), tt.opts...), "--", "python3", "-c", client)
			out, errOut, st := runPasta(t, nil, prefix, args...)
			if got := strings.TrimSpace(string(out)); st != 0 || got != tt.want {
				t.Errorf("status %d, got %q, want %q; stderr:\n%s", st, got, tt.want, errOut)
			}
		})
	}
	t.Run("no such interface", func(t *testing.T) {
		_, errOut, st := runPasta(t, nil, prefix, append(base, "--outbound-if4", "gpnosuch", "--", "true")...)
		if st == 0 || !strings.Contains(string(errOut), "external interface not usable") {
			t.Errorf("status %d; stderr:\n%s", st, errOut)
		}
	})
}
