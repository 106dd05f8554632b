// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"strings"

	"gopasst/policy"
)

// Capabilities returns what --print-capabilities prints, the vhost-user
// backend convention for a network device.
func Capabilities() string { return "{\n  \"type\": \"net\"\n}\n" }

func modeName(m policy.Mode) string {
	if m == policy.ModePasta {
		return "pasta"
	}
	return "passt"
}

// Usage returns the --help text for mode.
func Usage(mode policy.Mode) string {
	pasta := mode == policy.ModePasta
	guest, fwdDefault := "guest", "none"
	var b strings.Builder
	w := func(s ...string) {
		for _, l := range s {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	if pasta {
		guest, fwdDefault = "namespace", "auto"
		w("Usage: pasta [OPTION]... [COMMAND] [ARGS]...",
			"       pasta [OPTION]... PID",
			"       pasta [OPTION]... --netns [PATH|NAME]",
			"",
			"Without PID or --netns, run the given command or a default shell",
			"in a new network and user namespace, and connect it via pasta.")
	} else {
		w("Usage: passt [OPTION]...")
	}
	w("",
		"As first argument, --gopasst-mode=pasta|passt chooses the mode whatever",
		"the program's name (gopasst's own; by default a name containing \"pasta\"",
		"runs pasta, any other passt). See "+modeName(mode)+"(1).")
	w("",
		"  -d, --debug              Be verbose",
		"      --trace              Be extra verbose, implies --debug",
		"      --stats DELAY        Display event statistics every DELAY seconds",
		"  -q, --quiet              Don't print informational messages",
		"  -f, --foreground         Don't run in background",
		"  -e, --stderr             Deprecated, ignored",
		"  -l, --log-file PATH      Log (only) to given file",
		"      --log-size BYTES     Maximum size of log file (default: 1 MiB)",
		"      --runas UID|UID:GID  Run as given UID, GID, numeric or names",
		"  -c, --conf-path PATH     Control socket path (pasta; see pesto(1))",
		"      --config FILE        Read options from TOML FILE first",
		"  -h, --help               Display this help message and exit",
		"      --version            Show version and exit")
	if pasta {
		w("  -I, --ns-ifname NAME     Namespace interface name",
			"                           default: same as the host's external one")
	} else {
		w("  -s, --socket, --socket-path PATH  UNIX domain socket path",
			"  -1, --one-off            Quit after handling one single client",
			"      --vhost-user         Enable vhost-user mode",
			"      --print-capabilities Print back-end capabilities in JSON format")
	}
	w("  -F, --fd FD              Use FD as pre-opened connected socket",
		"  -p, --pcap FILE          Log tap-facing traffic to pcap file",
		"  -P, --pid FILE           Write own PID to the given file",
		"  -m, --mtu MTU            Assign MTU via DHCP/NDP; 0: don't assign",
		"                           default: 65520",
		"  -a, --address ADDR[/PLEN]  Assign IPv4 or IPv6 address ADDR",
		"                           default: addresses of the default route interface",
		"  -n, --netmask MASK       Assign IPv4 MASK, dot-decimal or bits",
		"  -M, --mac-addr ADDR      Use source MAC address ADDR",
		"                           default: 9a:55:9a:55:9a:55",
		"  -g, --gateway ADDR       Pass IPv4 or IPv6 address as gateway",
		"  -i, --interface NAME     Interface for addresses and routes",
		"  -o, --outbound ADDR      Bind to address as outbound source",
		"      --outbound-if4 NAME  Bind to outbound interface for IPv4",
		"      --outbound-if6 NAME  Bind to outbound interface for IPv6",
		"  -D, --dns ADDR           Use IPv4 or IPv6 address as DNS; 'none' disables",
		"  -S, --search LIST        Space-separated search domains; 'none' disables",
		"  -H, --hostname NAME      Hostname to configure the client with",
		"      --fqdn NAME          FQDN to configure the client with")
	if pasta {
		w("      --dhcp-dns           Pass DNS list via DHCP/DHCPv6/NDP",
			"      --dhcp-search        Pass search list via DHCP/DHCPv6/NDP")
	} else {
		w("      --no-dhcp-dns        No DNS list in DHCP/DHCPv6/NDP",
			"      --no-dhcp-search     No search list in DHCP/DHCPv6/NDP")
	}
	w("      --map-host-loopback ADDR  Translate ADDR to refer to host loopback",
		"                           default: gateway address",
		"      --map-guest-addr ADDR     Translate ADDR to the guest's address on the host",
		"      --dns-forward ADDR   Forward DNS queries sent to ADDR",
		"      --dns-host ADDR      Host nameserver to direct queries to",
		"      --no-tcp             Disable TCP protocol handler",
		"      --no-udp             Disable UDP protocol handler",
		"      --no-icmp            Disable ICMP/ICMPv6 protocol handler",
		"      --no-dhcp            Disable DHCP server",
		"      --no-ndp             Disable NDP responses",
		"      --no-dhcpv6          Disable DHCPv6 server",
		"      --no-ra              Disable router advertisements",
		"      --freebind           Bind to any address for forwarding",
		"      --no-map-gw          Don't map gateway address to host",
		"  -4, --ipv4-only          Enable IPv4 operation only",
		"  -6, --ipv6-only          Enable IPv6 operation only",
		"  -t, --tcp-ports SPEC     TCP port forwarding to "+guest,
		"                           SPEC: none | [ADDR[%IFACE]/]PORTS",
		"                           PORTS: comma list of P, P-Q, P:R, P-Q:R-S,",
		"                           ~P (exclude), all[:ADDR]"+map[bool]string{true: ", auto", false: ""}[pasta],
		"                           default: "+fwdDefault,
		"  -u, --udp-ports SPEC     UDP port forwarding to "+guest,
		"                           default: "+fwdDefault)
	if pasta {
		w("  -T, --tcp-ns SPEC        TCP port forwarding to init namespace",
			"                           default: auto",
			"  -U, --udp-ns SPEC        UDP port forwarding to init namespace",
			"                           default: auto",
			"      --host-lo-to-ns-lo   Translate host-loopback forwards to ns loopback",
			"      --userns NSPATH      Target user namespace to join",
			"      --netns PATH|NAME    Target network namespace to join",
			"      --netns-only         Don't join existing user namespace",
			"      --no-netns-quit      Don't quit if the target namespace is deleted",
			"      --config-net         Configure tap interface in namespace",
			"      --ns-mac-addr ADDR   Set MAC address on tap interface",
			"      --no-splice          Disable inbound socket splicing",
			"      --splice-only        Only enable loopback forwarding (not yet supported)")
	}
	w("",
		"Egress policy, flow limits and audit (gopasst's own):",
		"      --egress-deny RULE   Refuse flows the "+guest+" opens to RULE",
		"      --egress-allow RULE  Allow only flows to RULE (and not denied)",
		"                           RULE: [PROTO:]TARGET[:PORTS]",
		"                           PROTO: tcp, udp, icmp, any (default)",
		"                           TARGET: ADDR, ADDR/PLEN, [IPV6/PLEN] before PORTS,",
		"                             preset:metadata | host-loopback | private",
		"                           PORTS: comma list of P, P-Q (TCP and UDP only)",
		"                           e.g. 169.254.169.254/32, 10.0.0.0/8:22,3306,",
		"                           udp:10.0.0.0/8:53, preset:metadata",
		"                           deny wins; no allow rule: all not denied allowed;",
		"                           checked against the real destination; repeat",
		"                           to add rules; adds to --config's [egress]",
		"      --max-flows PROTO=N  At most N concurrent flows of PROTO (tcp, udp,",
		"                           icmp, any) opened by the "+guest,
		"      --flow-rate PROTO=N/s  At most N new flows of PROTO per second",
		"      --audit-log FILE     Log flow events as JSON lines to FILE; '-': stderr")
	return b.String()
}
