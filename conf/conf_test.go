// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gopasst/policy"
)

var (
	pA = netip.MustParseAddr
	pP = netip.MustParsePrefix
)

// cmpConfig compares Configs: Forward by its specs, netip by value.
var cmpConfig = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b *policy.Forward) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.String() == b.String() && a.Mode == b.Mode
	}),
	cmpopts.EquateEmpty(),
}

func fwd(t *testing.T, opt byte, mode policy.Mode, specs ...string) *policy.Forward {
	t.Helper()
	f := policy.NewForward(opt, policy.ReadEphemeral())
	for _, s := range specs {
		var err error
		if f, err = policy.ParseForward(s, f, mode); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestParseCallers(t *testing.T) {
	pasta := func(f func(c *policy.Config)) *policy.Config {
		c := policy.NewConfig(policy.ModePasta)
		f(c)
		return c
	}
	passt := func(f func(c *policy.Config)) *policy.Config {
		c := policy.NewConfig(policy.ModePasst)
		f(c)
		return c
	}
	none := func() *policy.Forward { return fwd(t, 't', policy.ModePasta, "none") }
	tests := []struct {
		name string
		mode policy.Mode
		line string
		want *policy.Config
	}{
		{"podman", policy.ModePasta,
			"--config-net --dns-forward 169.254.1.1 -t none -u none -T none -U none --no-map-gw --quiet --netns /run/netns/x --map-guest-addr 169.254.1.2",
			pasta(func(c *policy.Config) {
				c.ConfigNet = true
				c.DNSForward = []netip.Addr{pA("169.254.1.1")}
				c.TCPIn, c.UDPIn, c.TCPOut, c.UDPOut = none(), none(), none(), none()
				c.NoMapGW, c.Quiet = true, true
				c.NetNS, c.NetNSOnly = "/run/netns/x", true
				c.MapGuestAddr = []netip.Addr{pA("169.254.1.2")}
			})},
		{"libvirt", policy.ModePasst,
			"--one-off --socket /tmp/s --pid /tmp/p --mtu 1500 --address 10.0.0.2 --netmask 24 --tcp-ports 2222:22",
			passt(func(c *policy.Config) {
				c.OneOff, c.Socket, c.PidFile = true, "/tmp/s", "/tmp/p"
				c.MTU, c.MTUSet = 1500, true
				c.Addresses = []netip.Prefix{pP("10.0.0.2/24")}
				c.Netmask = 24
				c.TCPIn = fwd(t, 't', policy.ModePasst, "2222:22")
			})},
		{"rootlesskit", policy.ModePasta,
			"--stderr --ns-ifname=tap0 --mtu=65520 --config-net --address=10.0.2.100 --netmask=24 --gateway=10.0.2.2 --dns-forward=10.0.2.3 --tcp-ports=none 1234",
			pasta(func(c *policy.Config) {
				c.NsIfname = "tap0"
				c.MTU, c.MTUSet = 65520, true
				c.ConfigNet = true
				c.Addresses = []netip.Prefix{pP("10.0.2.100/24")}
				c.Netmask = 24
				c.Gateways = []netip.Addr{pA("10.0.2.2")}
				c.DNSForward = []netip.Addr{pA("10.0.2.3")}
				c.TCPIn = none()
				c.TargetPID = 1234
			})},
		{"rootlesskit detach", policy.ModePasta,
			"--stderr --ns-ifname=tap0 --mtu=65520 --config-net --address=10.0.2.100 --netmask=24 --gateway=10.0.2.2 --dns-forward=10.0.2.3 --no-map-gw --ipv4-only --tcp-ports=auto --udp-ports=auto --host-lo-to-ns-lo --userns=/proc/42/ns/user --netns=/run/user/1000/netns",
			pasta(func(c *policy.Config) {
				c.NsIfname = "tap0"
				c.MTU, c.MTUSet = 65520, true
				c.ConfigNet = true
				c.Addresses = []netip.Prefix{pP("10.0.2.100/24")}
				c.Netmask = 24
				c.Gateways = []netip.Addr{pA("10.0.2.2")}
				c.DNSForward = []netip.Addr{pA("10.0.2.3")}
				c.NoMapGW, c.IPv4Only, c.HostLoToNsLo = true, true, true
				c.TCPIn = fwd(t, 't', policy.ModePasta, "auto")
				c.UDPIn = fwd(t, 'u', policy.ModePasta, "auto")
				c.UserNS, c.NetNS = "/proc/42/ns/user", "/run/user/1000/netns"
			})},
		{"qemu", policy.ModePasst, "--fd 3 --pid F --quiet",
			passt(func(c *policy.Config) {
				c.Fd, c.OneOff, c.PidFile, c.Quiet = 3, true, "F", true
			})},
		{"-F then -s: the last wins", policy.ModePasst, "--fd 3 -s /tmp/p.sock",
			passt(func(c *policy.Config) { c.Socket, c.OneOff = "/tmp/p.sock", true })},
		{"-s then -F: the last wins", policy.ModePasst, "-s /tmp/p.sock --fd 3",
			passt(func(c *policy.Config) { c.Fd, c.OneOff = 3, true })},
		{"muvm", policy.ModePasst, "-q -f --fd 5 -t 8080-8081:80-81 -u 53",
			passt(func(c *policy.Config) {
				c.Quiet, c.Foreground, c.Fd, c.OneOff = true, true, 5, true
				c.TCPIn = fwd(t, 't', policy.ModePasst, "8080-8081:80-81")
				c.UDPIn = fwd(t, 'u', policy.ModePasst, "53")
			})},
		{"short clusters", policy.ModePasst, "-fq -t22 -t 80:8080 -m1500 -46",
			passt(func(c *policy.Config) {
				c.Foreground, c.Quiet = true, true
				c.TCPIn = fwd(t, 't', policy.ModePasst, "22", "80:8080")
				c.MTU, c.MTUSet = 1500, true
				c.IPv6Only = true
			})},
		{"cluster arg", policy.ModePasst, "-qm 9000",
			passt(func(c *policy.Config) { c.Quiet, c.MTU, c.MTUSet = true, 9000, true })},
		{"per family", policy.ModePasst, "-a 10.0.0.2/8 -a 2001:db8::2 -a 10.0.0.3/16 -g 10.0.0.1 -g fe80::1 -o 192.0.2.1 --dns-host 127.0.0.53",
			passt(func(c *policy.Config) {
				c.Addresses = []netip.Prefix{pP("10.0.0.3/16"), netip.PrefixFrom(pA("2001:db8::2"), -1)}
				c.Gateways = []netip.Addr{pA("10.0.0.1"), pA("fe80::1")}
				c.Outbound = []netip.Addr{pA("192.0.2.1")}
				c.DNSHost = []netip.Addr{pA("127.0.0.53")}
			})},
		{"dns and search", policy.ModePasst, "-D 192.0.2.53 -D 2001:db8::53 -S \"a.example b.example\" -S c.example",
			passt(func(c *policy.Config) {
				c.DNS = []netip.Addr{pA("192.0.2.53"), pA("2001:db8::53")}
				c.Search = []string{"a.example", "b.example", "c.example"}
			})},
		{"dns none", policy.ModePasst, "-D 192.0.2.53 --dns-forward 10.0.0.1 -D none -S none",
			passt(func(c *policy.Config) { c.NoDNS, c.NoSearch = true, true })},
		{"map none", policy.ModePasta, "--map-host-loopback 10.0.0.9 --map-host-loopback none --map-guest-addr none",
			pasta(func(c *policy.Config) { c.NoMapHostLoopback, c.NoMapGW, c.NoMapGuestAddr = true, true, true })},
		{"netmask dotted", policy.ModePasst, "-n 255.255.255.0 -a 10.0.0.2",
			passt(func(c *policy.Config) {
				c.Netmask = 24
				c.Addresses = []netip.Prefix{pP("10.0.0.2/24")}
			})},
		{"debug then quiet", policy.ModePasst, "--trace -q", passt(func(c *policy.Config) { c.Quiet = true })},
		{"quiet then debug", policy.ModePasst, "-q --trace", passt(func(c *policy.Config) { c.Trace, c.Debug = true, true })},
		{"prefix abbreviation", policy.ModePasst, "--mt 1500 --fore --socket-p /s",
			passt(func(c *policy.Config) { c.MTU, c.MTUSet, c.Foreground, c.Socket = 1500, true, true, "/s" })},
		{"pasta command", policy.ModePasta, "-f -- sh -c true",
			pasta(func(c *policy.Config) { c.Foreground, c.Command = true, []string{"sh", "-c", "true"} })},
		{"pasta stops at non-option", policy.ModePasta, "--config-net ip -d link",
			pasta(func(c *policy.Config) { c.ConfigNet, c.Command = true, []string{"ip", "-d", "link"} })},
		{"pasta two words numeric", policy.ModePasta, "123 456",
			pasta(func(c *policy.Config) { c.Command = []string{"123", "456"} })},
		{"netns name", policy.ModePasta, "--netns x --userns /proc/1/ns/user",
			pasta(func(c *policy.Config) { c.NetNS, c.UserNS = "/run/netns/x", "/proc/1/ns/user" })},
		{"pasta dhcp switches", policy.ModePasta, "--dhcp-dns --dhcp-search",
			pasta(func(c *policy.Config) { c.NoDHCPDNS, c.NoDHCPSearch = false, false })},
		{"passt dhcp switches", policy.ModePasst, "--no-dhcp-dns --no-dhcp-search",
			passt(func(c *policy.Config) { c.NoDHCPDNS, c.NoDHCPSearch = true, true })},
		{"services off", policy.ModePasst, "--no-tcp --no-udp --no-icmp --no-dhcp --no-ndp --no-dhcpv6 --no-ra --freebind --no-map-gw",
			passt(func(c *policy.Config) {
				c.NoTCP, c.NoUDP, c.NoICMP, c.NoDHCP, c.NoNDP, c.NoDHCPv6, c.NoRA = true, true, true, true, true, true, true
				c.Freebind, c.NoMapGW = true, true
			})},
		{"misc", policy.ModePasst, "-l /tmp/log --log-size 2000000 -p /tmp/cap -M 02:00:00:00:00:01 -i lo --outbound-if4 eth1 --outbound-if6 eth2 -H vm --fqdn vm.example --runas 1000:1000 -f --stats 5 -e",
			passt(func(c *policy.Config) {
				c.LogFile, c.LogSize, c.PcapFile, c.MAC = "/tmp/log", 2000000, "/tmp/cap", "02:00:00:00:00:01"
				c.Interface, c.OutboundIf4, c.OutboundIf6 = "lo", "eth1", "eth2"
				c.Hostname, c.FQDN, c.RunAs, c.Foreground, c.Stats = "vm", "vm.example", "1000:1000", true, 5*time.Second
			})},
		{"pasta misc", policy.ModePasta, "--ns-mac-addr 02:00:00:00:00:02 --no-netns-quit --netns-only --no-splice --no-copy-routes --config-net 77",
			pasta(func(c *policy.Config) {
				c.NsMAC, c.NoNetNSQuit, c.NetNSOnly, c.NoSplice, c.TargetPID = "02:00:00:00:00:02", true, true, true, 77
				c.ConfigNet, c.NoCopyRoutes = true, true
			})},
		{"no-copy-addrs", policy.ModePasta, "--config-net --no-copy-addrs",
			pasta(func(c *policy.Config) { c.ConfigNet, c.NoCopyAddrs = true, true })},
		{"vhost-user", policy.ModePasst, "--vhost-user -s /tmp/vu.sock -1",
			passt(func(c *policy.Config) { c.VhostUser, c.Socket, c.OneOff = true, "/tmp/vu.sock", true })},
		{"unsupported recorded", policy.ModePasst, "--vhost-user -c /tmp/ctl --repair-path /tmp/r --migrate-exit --migrate-no-linger",
			passt(func(c *policy.Config) {
				c.VhostUser, c.ConfPath, c.RepairPath = true, "/tmp/ctl", "/tmp/r"
				c.MigrateExit, c.MigrateNoLinger = true, true
			})},
		{"repair none", policy.ModePasst, "--vhost-user --repair-path none",
			passt(func(c *policy.Config) { c.VhostUser, c.RepairPath = true, "none" })},
		{"mtu zero", policy.ModePasst, "-m 0", passt(func(c *policy.Config) { c.MTUSet = true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.mode, splitArgs(tt.line))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d := cmp.Diff(tt.want, got, cmpConfig); d != "" {
				t.Errorf("Config (-want +got):\n%s", d)
			}
		})
	}
}

// splitArgs splits a line on spaces, honouring double quotes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			in, have = !in, true
		case r == ' ' && !in:
			if have {
				out = append(out, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		mode policy.Mode
		line string
		want string // the exact error text
	}{
		{"unknown long", policy.ModePasst, "--xyz", "unrecognized option '--xyz'"},
		{"unknown long value", policy.ModePasst, "--xyz=1", "unrecognized option '--xyz=1'"},
		{"map-guest-addr for podman", policy.ModePasst, "--map-guest-addrx 1.2.3.4", "unrecognized option '--map-guest-addrx'"},
		{"unknown short", policy.ModePasst, "-x", "invalid option -- 'x'"},
		{"unknown in cluster", policy.ModePasst, "-fqx", "invalid option -- 'x'"},
		{"missing long", policy.ModePasst, "--mtu", "option '--mtu' requires an argument"},
		{"missing short", policy.ModePasst, "-m", "option requires an argument -- 'm'"},
		{"arg to flag", policy.ModePasst, "--quiet=yes", "option '--quiet' doesn't allow an argument"},
		{"ambiguous", policy.ModePasst, "--no-dhcp6", "unrecognized option '--no-dhcp6'"},
		{"ambiguous prefix", policy.ModePasst, "--no-d", "option '--no-d' is ambiguous; possibilities: '--no-dhcp' '--no-dhcpv6' '--no-dhcp-dns' '--no-dhcp-search'"},
		{"bad mtu", policy.ModePasst, "--mtu abc", `--mtu: invalid MTU "abc"`},
		{"bad mtu short", policy.ModePasst, "-m abc", `--mtu: invalid MTU "abc"`},
		{"mtu too big", policy.ModePasst, "--mtu=65521", "--mtu: MTU 65521 out of range 68..65520"},
		{"mtu too small", policy.ModePasst, "--mtu=67", "--mtu: MTU 67 out of range 68..65520"},
		{"bad address", policy.ModePasst, "-a 10.0.0", `--address: invalid guest address "10.0.0"`},
		{"loopback address", policy.ModePasst, "-a 127.0.0.2", `--address: invalid guest address "127.0.0.2"`},
		{"bad plen", policy.ModePasst, "-a 10.0.0.1/33", `--address: invalid prefix length in "10.0.0.1/33"`},
		{"redundant prefix", policy.ModePasst, "-a 10.0.0.1/8 -n 24", "--netmask: redundant prefix length specification"},
		{"redundant prefix rev", policy.ModePasst, "-n 24 -a 10.0.0.1/8", "--address: redundant prefix length specification"},
		{"bad netmask", policy.ModePasst, "-n 255.0.255.0", `--netmask: invalid netmask "255.0.255.0"`},
		{"bad mac", policy.ModePasst, "-M 9a:55", `--mac-addr: invalid MAC address "9a:55"`},
		{"bad gateway", policy.ModePasst, "-g 0.0.0.0", `--gateway: invalid gateway address "0.0.0.0"`},
		{"bad dns", policy.ModePasst, "-D foo", `--dns: cannot use DNS address "foo"`},
		{"bad dns-forward", policy.ModePasta, "--dns-forward 127.0.0.1", `--dns-forward: invalid DNS forwarding address "127.0.0.1"`},
		{"bad dns-host", policy.ModePasta, "--dns-host ::", `--dns-host: invalid host nameserver address "::"`},
		{"bad map", policy.ModePasta, "--map-guest-addr 127.0.0.1", `--map-guest-addr: invalid address to remap to host "127.0.0.1"`},
		{"bad port", policy.ModePasst, "-t 22-x", `--tcp-ports: invalid port specifier '22-x'`},
		{"none conflict", policy.ModePasta, "-t 22 -t none", `--tcp-ports: 'none' after other rules: conflict`},
		{"overlap", policy.ModePasst, "-t 80 -t 80", `--tcp-ports: forwarding configuration conflict: TCP [*]:80 => 80 versus TCP [*]:80 => 80`},
		{"dual stack target", policy.ModePasst, "-t 22:192.0.2.5", `--tcp-ports: cannot add rule TCP [*]:22 => 192.0.2.5:22: dual stack forward to IPv4 address 192.0.2.5 unsupported (did you mean 0.0.0.0/... instead?)`},
		{"-T address", policy.ModePasta, "-T 127.0.0.1/22", `--tcp-ns: listening address not allowed for -T 127.0.0.1/22`},
		{"auto passt", policy.ModePasst, "-u auto", `--udp-ports: 'auto' port forwarding is only allowed for pasta`},
		{"bad fd", policy.ModePasst, "--fd x", `--fd: invalid fd "x"`},
		{"bad log-size", policy.ModePasst, "--log-size 10", `--log-size: invalid size "10" (minimum 4096)`},
		{"bad stats", policy.ModePasst, "-f --stats x", `--stats: invalid delay "x"`},
		{"stats background", policy.ModePasst, "--stats 1", "--stats: can't display statistics if not running in foreground"},
		{"bad iface", policy.ModePasst, "-i a/b", `--interface: invalid interface name "a/b"`},
		{"unknown iface", policy.ModePasst, "-i gpnosuch0", `invalid interface name gpnosuch0: no such device`},
		{"no-copy-addrs alone", policy.ModePasta, "--no-copy-addrs", `--no-copy-addrs needs --config-net`},
		{"unknown iface pasta", policy.ModePasta, "--interface=gpnosuch0", `invalid interface name gpnosuch0: no such device`},
		{"long iface", policy.ModePasta, "-I abcdefghijklmnop", `--ns-ifname: invalid interface name "abcdefghijklmnop"`},
		{"empty pid", policy.ModePasst, "--pid=", `--pid: invalid path ""`},
		{"bad runas", policy.ModePasst, "--runas a:b:c", `--runas: invalid user "a:b:c"`},
		{"passt extra", policy.ModePasst, "-f foo", "extra non-option argument: foo"},
		{"netns and pid", policy.ModePasta, "--netns /run/netns/x 123", "both --netns and PID or command given"},
		{"bad pid", policy.ModePasta, "99999999999", "invalid PID 99999999999"},
		{"splice", policy.ModePasta, "--no-splice --host-lo-to-ns-lo", "--host-lo-to-ns-lo is incompatible with --no-splice"},
		{"repair no vu", policy.ModePasst, "--repair-path /x", "--repair-path is for vhost-user mode only"},
		{"migrate no vu", policy.ModePasst, "--migrate-exit", "--migrate-exit and --migrate-no-linger are for vhost-user mode only"},
		// Mode checks.
		{"netns in passt", policy.ModePasst, "--netns /x", "--netns is for pasta mode only"},
		{"userns in passt", policy.ModePasst, "--userns /x", "--userns is for pasta mode only"},
		{"config-net in passt", policy.ModePasst, "--config-net", "--config-net is for pasta mode only"},
		{"host-lo in passt", policy.ModePasst, "--host-lo-to-ns-lo", "--host-lo-to-ns-lo is for pasta mode only"},
		{"-T in passt", policy.ModePasst, "-T 22", "-T is for pasta mode only"},
		{"-U in passt", policy.ModePasst, "--udp-ns 22", "-U is for pasta mode only"},
		{"-I in passt", policy.ModePasst, "-I tap0", "-I is for pasta mode only"},
		{"ns-mac in passt", policy.ModePasst, "--ns-mac-addr 02:00:00:00:00:01", "--ns-mac-addr is for pasta mode only"},
		{"dhcp-dns in passt", policy.ModePasst, "--dhcp-dns", "--dhcp-dns is for pasta mode only"},
		{"-s in pasta", policy.ModePasta, "-s /tmp/s", "-s is for passt / vhost-user mode only"},
		{"one-off in pasta", policy.ModePasta, "-1", "--one-off is for passt mode only"},
		{"vhost-user in pasta", policy.ModePasta, "--vhost-user", "--vhost-user is for passt mode only"},
		{"no-dhcp-dns in pasta", policy.ModePasta, "--no-dhcp-dns", "--no-dhcp-dns is for passt mode only"},
		{"error before version", policy.ModePasta, "--bogus --version", "unrecognized option '--bogus'"},
		{"missing config", policy.ModePasst, "--config /nonexistent.toml", "--config: config file: open /nonexistent.toml: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.mode, splitArgs(tt.line))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line")
			}
		})
	}
}

func TestParseSentinels(t *testing.T) {
	tests := []struct {
		name string
		mode policy.Mode
		line string
		want error
	}{
		{"help", policy.ModePasst, "-h", ErrHelp},
		{"help long", policy.ModePasta, "--config-net --help --bogus", ErrHelp},
		{"version", policy.ModePasta, "--version", ErrVersion},
		{"rootlesskit probe", policy.ModePasta, "--host-lo-to-ns-lo --version", ErrVersion},
		{"capabilities", policy.ModePasst, "--print-capabilities", ErrCapabilities},
		{"capabilities in pasta", policy.ModePasta, "--print-capabilities", ErrCapabilities},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.mode, splitArgs(tt.line))
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if !strings.HasPrefix(Version(policy.ModePasta), "gopasst ") || !strings.HasSuffix(Version(policy.ModePasst), "\n") {
		t.Errorf("Version: %q %q", Version(policy.ModePasta), Version(policy.ModePasst))
	}
	if !strings.Contains(Capabilities(), `"type": "net"`) {
		t.Errorf("Capabilities: %q", Capabilities())
	}
	for _, m := range []policy.Mode{policy.ModePasst, policy.ModePasta} {
		u := Usage(m)
		for _, o := range options {
			// Every option except deprecated aliases is documented.
			if (o.long == "no-splice" && m == policy.ModePasst) || o.long == "no-copy-routes" || o.long == "no-copy-addrs" || strings.HasPrefix(o.long, "migrate") ||
				o.long == "repair-path" || o.long == "chroot-fallback" ||
				(o.long == "print-capabilities" && m == policy.ModePasta) { // accepted, not in pasta's --help, as passt
				continue
			}
			if _, err := Parse(m, []string{"--" + o.long + map[bool]string{true: "=x"}[o.arg]}); err != nil &&
				strings.Contains(err.Error(), "mode only") {
				continue // not for this mode
			}
			if !strings.Contains(u, "--"+o.long) {
				t.Errorf("Usage(%d) lacks --%s", m, o.long)
			}
		}
	}
}

func TestUnsupported(t *testing.T) {
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"-s /tmp/s", nil},
		{"--vhost-user -s /tmp/s", nil},
		{"--vhost-user -F 5", nil},
		{"--vhost-user --repair-path none", nil},
		{"--vhost-user -c /tmp/ctl -s /tmp/s", []string{"-c/--conf-path in passt mode"}},
		// Live migration: refused, each option named.
		{"--vhost-user --repair-path /tmp/r", []string{"--repair-path (live migration)"}},
		{"--vhost-user --migrate-exit", []string{"--migrate-exit (live migration)"}},
		{"--vhost-user --migrate-no-linger --migrate-exit", []string{"--migrate-exit (live migration)", "--migrate-no-linger (live migration)"}},
	} {
		c, err := Parse(policy.ModePasst, splitArgs(tt.line))
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		if d := cmp.Diff(tt.want, Unsupported(c)); d != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.line, d)
		}
	}
	// -F in passt is a connected socket (supported); in pasta a tap fd.
	for _, tt := range []struct {
		mode policy.Mode
		want []string
	}{{policy.ModePasst, []string{"-c/--conf-path in passt mode"}}, {policy.ModePasta, []string{"-F/--fd in pasta mode"}}} {
		// -c is pasta's control socket (package ctl); passt refuses it.
		c, err := Parse(tt.mode, []string{"-F", "5", "-c", "/tmp/ctl"})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, Unsupported(c)); d != "" {
			t.Errorf("mode %v: %s", tt.mode, d)
		}
	}
}

func TestParseConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.toml")
	err := os.WriteFile(file, []byte(`mtu = 1500
hostname = "fromfile"
dns = ["192.0.2.1", "192.0.2.2"]
tcp_ports = ["22"]
udp_ports = ["53"]
quiet = true
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(policy.ModePasst, []string{"-m", "9000", "--config", file, "-D", "192.0.2.9", "-D", "192.0.2.10", "-t", "80"})
	if err != nil {
		t.Fatal(err)
	}
	want := policy.NewConfig(policy.ModePasst)
	want.ConfigFile = file
	want.MTU, want.MTUSet = 9000, true // command line wins
	want.Hostname = "fromfile"         // file fills in
	want.Quiet = true
	want.DNS = []netip.Addr{pA("192.0.2.9"), pA("192.0.2.10")} // first -D replaces the file's list
	want.TCPIn = fwd(t, 't', policy.ModePasst, "80")           // -t replaces the file's rules
	want.UDPIn = fwd(t, 'u', policy.ModePasst, "53")
	if d := cmp.Diff(want, c, cmpConfig); d != "" {
		t.Errorf("Config (-want +got):\n%s", d)
	}

	if err := os.WriteFile(file, []byte("mtu = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Parse(policy.ModePasst, []string{"--config=" + file})
	if err == nil || !strings.Contains(err.Error(), `key "mtu"`) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad file: err = %v", err)
	}
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"--config-net --dns-forward 169.254.1.1 -t none -u none -T none -U none --no-map-gw --quiet --netns /run/netns/x --map-guest-addr 169.254.1.2",
		"--one-off --socket /tmp/s --pid /tmp/p --mtu 1500 --address 10.0.0.2 --netmask 24 --tcp-ports 2222:22",
		"--stderr --ns-ifname=tap0 --mtu=65520 --config-net --address=10.0.2.100 --netmask=24 --gateway=10.0.2.2 --dns-forward=10.0.2.3 --tcp-ports=none 1234",
		"--fd 3 --pid F --quiet",
		"-fq -t22 -46 -- sh",
		"--no-d -m -x",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, line string, pasta bool) {
		mode := policy.ModePasst
		if pasta {
			mode = policy.ModePasta
		}
		args := strings.Split(line, " ")
		for _, a := range args {
			if a == "--config" || strings.HasPrefix(a, "--config=") {
				return // do not read files named by the fuzzer
			}
		}
		c, err := Parse(mode, args)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if c.Mode != mode || (c.IPv4Only && c.IPv6Only) {
			t.Fatalf("inconsistent config %+v", c)
		}
	})
}

// TestParseFreebind: --freebind, wherever it is on the command line, makes
// the -t and -u listeners bind with IP_FREEBIND; -T and -U listen on the
// namespace's loopback and do not need it.
func TestParseFreebind(t *testing.T) {
	for _, line := range []string{"--freebind -t 192.0.2.7/80 -u 53 -T 81 -U 54", "-t 192.0.2.7/80 -u 53 -T 81 -U 54 --freebind"} {
		c, err := Parse(policy.ModePasta, strings.Fields(line))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, f := range []struct {
			fw   *policy.Forward
			want bool
		}{{c.TCPIn, true}, {c.UDPIn, true}, {c.TCPOut, false}, {c.UDPOut, false}} {
			l := f.fw.Listeners()
			if len(l) != 1 || l[0].Freebind != f.want {
				t.Errorf("%q: %c listeners %+v, want Freebind %v", line, f.fw.Opt, l, f.want)
			}
		}
	}
	c, err := Parse(policy.ModePasst, []string{"-t", "80"})
	if err != nil || c.TCPIn.Listeners()[0].Freebind {
		t.Errorf("without --freebind: %v %+v", err, c.TCPIn.Listeners())
	}
}
