// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"net/netip"
	"time"
)

// Mode is the front end: passt (a qemu stream socket) or pasta (a tap device
// in a network namespace).
type Mode int

// Modes.
const (
	ModePasst Mode = iota
	ModePasta
)

// Config is everything the command line and the TOML file can say. Zero
// values mean "not given": the consumer applies passt's defaults. Fields are
// filled by the command-line parser (package conf) and by Load; the command
// line wins where both give a value.
type Config struct {
	Mode Mode `toml:"-"`

	// Logging and process.
	Debug      bool          `toml:"debug"`      // -d: verbose logging
	Trace      bool          `toml:"trace"`      // --trace: per-packet logging, implies Debug
	Quiet      bool          `toml:"quiet"`      // -q: no informational messages
	Foreground bool          `toml:"foreground"` // -f: do not daemonize
	LogFile    string        `toml:"log_file"`   // -l: log to this file
	LogSize    int64         `toml:"log_size"`   // --log-size: bytes, 0 = default 1 MiB
	PidFile    string        `toml:"pid_file"`   // -P: write the PID here once ready
	PcapFile   string        `toml:"pcap"`       // -p: capture tap-side frames
	RunAs      string        `toml:"runas"`      // --runas UID[:GID] | LOGIN[:GROUP]
	Stats      time.Duration `toml:"-"`          // --stats: period of statistics lines; 0 = off

	// Link and addressing.
	MTU         int            `toml:"mtu"`          // -m: 0 = not given (default 65520); use MTUSet to tell "0" apart
	MTUSet      bool           `toml:"-"`            // -m was given (an explicit 0 means "do not advertise")
	Addresses   []netip.Prefix `toml:"address"`      // -a: per family; a bare address has prefix length -1 until Netmask/host applies
	Netmask     int            `toml:"netmask"`      // -n: IPv4 prefix length; -1 = not given
	MAC         string         `toml:"mac"`          // -M: our MAC towards the guest
	Gateways    []netip.Addr   `toml:"gateway"`      // -g: per family
	Interface   string         `toml:"interface"`    // -i: host interface to copy from
	Outbound    []netip.Addr   `toml:"outbound"`     // -o: source addresses for outbound sockets
	OutboundIf4 string         `toml:"outbound_if4"` // --outbound-if4
	OutboundIf6 string         `toml:"outbound_if6"` // --outbound-if6
	DNS         []netip.Addr   `toml:"dns"`          // -D: resolvers to advertise
	NoDNS       bool           `toml:"no_dns"`       // -D none
	DNSForward  []netip.Addr   `toml:"dns_forward"`  // --dns-forward
	DNSHost     []netip.Addr   `toml:"dns_host"`     // --dns-host
	Search      []string       `toml:"search"`       // -S
	NoSearch    bool           `toml:"no_search"`    // -S none
	Hostname    string         `toml:"hostname"`     // -H
	FQDN        string         `toml:"fqdn"`         // --fqdn

	// Services switched off.
	NoTCP    bool `toml:"no_tcp"`
	NoUDP    bool `toml:"no_udp"`
	NoICMP   bool `toml:"no_icmp"`
	NoDHCP   bool `toml:"no_dhcp"`
	NoNDP    bool `toml:"no_ndp"`
	NoDHCPv6 bool `toml:"no_dhcpv6"`
	NoRA     bool `toml:"no_ra"`

	// Address mapping.
	NoMapGW           bool         `toml:"no_map_gw"`         // --no-map-gw
	MapHostLoopback   []netip.Addr `toml:"map_host_loopback"` // --map-host-loopback ADDR
	NoMapHostLoopback bool         `toml:"-"`                 // --map-host-loopback none
	MapGuestAddr      []netip.Addr `toml:"map_guest_addr"`    // --map-guest-addr ADDR
	NoMapGuestAddr    bool         `toml:"-"`                 // --map-guest-addr none
	IPv4Only          bool         `toml:"ipv4_only"`         // -4
	IPv6Only          bool         `toml:"ipv6_only"`         // -6

	// Port forwarding (-t, -u; pasta -T, -U). Nil means "not given": the
	// mode's default applies (passt: none; pasta: auto).
	TCPIn  *Forward `toml:"-"`
	UDPIn  *Forward `toml:"-"`
	TCPOut *Forward `toml:"-"`
	UDPOut *Forward `toml:"-"`

	// passt only.
	Socket    string `toml:"socket"`  // -s: UNIX socket path
	Fd        int    `toml:"-"`       // -F: connected socket fd; -1 = none
	OneOff    bool   `toml:"one_off"` // -1
	VhostUser bool   `toml:"-"`       // --vhost-user: qemu's vhost-user back end (tap/vhostuser)

	// pasta only.
	NsIfname     string   `toml:"ns_ifname"`        // -I
	UserNS       string   `toml:"userns"`           // --userns PATH
	NetNS        string   `toml:"netns"`            // --netns PATH|NAME (NAME → /run/netns/NAME)
	NetNSOnly    bool     `toml:"netns_only"`       // --netns-only
	NoNetNSQuit  bool     `toml:"no_netns_quit"`    // --no-netns-quit
	ConfigNet    bool     `toml:"config_net"`       // --config-net
	NoCopyRoutes bool     `toml:"-"`                // --no-copy-routes (deprecated upstream): --config-net adds the default route only
	NoCopyAddrs  bool     `toml:"-"`                // --no-copy-addrs (deprecated upstream): --config-net adds the one address only
	NsMAC        string   `toml:"ns_mac"`           // --ns-mac-addr
	NoSplice     bool     `toml:"no_splice"`        // --no-splice
	HostLoToNsLo bool     `toml:"host_lo_to_ns_lo"` // --host-lo-to-ns-lo
	TargetPID    int      `toml:"-"`                // positional PID; 0 = none
	Command      []string `toml:"-"`                // positional COMMAND [ARG]...

	// Our own (not in passt): egress policy, per-guest flow limits, and
	// the flow audit log.
	Egress   Egress `toml:"-"`         // [egress] allow/deny, --egress-allow/--egress-deny
	Limits   Limits `toml:"limits"`    // [limits], --max-flows/--flow-rate
	AuditLog string `toml:"audit_log"` // --audit-log: JSON lines of flow events; "-" = stderr

	// Added with the command-line parser (package conf).
	Freebind          bool   `toml:"freebind"`       // --freebind: IP_FREEBIND on -t/-u listeners
	NoDHCPDNS         bool   `toml:"no_dhcp_dns"`    // --no-dhcp-dns / --dhcp-dns; NewConfig: true for pasta
	NoDHCPSearch      bool   `toml:"no_dhcp_search"` // --no-dhcp-search / --dhcp-search; NewConfig: true for pasta
	ConfPath          string `toml:"-"`              // -c: control socket for pesto (not supported yet)
	RepairPath        string `toml:"-"`              // --repair-path (vhost-user live migration; refused)
	MigrateExit       bool   `toml:"-"`              // --migrate-exit (vhost-user live migration; refused)
	MigrateNoLinger   bool   `toml:"-"`              // --migrate-no-linger (vhost-user live migration; refused)
	SpliceOnly        bool   `toml:"-"`              // --splice-only (pasta; not supported yet)
	ChrootFallback    bool   `toml:"-"`              // --chroot-fallback
	PrintCapabilities bool   `toml:"-"`              // --print-capabilities was given
	ConfigFile        string `toml:"-"`              // --config: the TOML file loaded, if any
}

// Egress restricts where the guest may open outbound flows. Empty lists
// allow everything (passt's behaviour). Rules come from the [egress]
// table's allow and deny lists and from --egress-allow and --egress-deny,
// the command line adding to the file; see ParseRule for the grammar.
type Egress struct {
	Allow []Rule // flows allowed; empty = all
	Deny  []Rule // flows refused; wins over Allow
}

// Empty reports whether e has no rules (everything is allowed).
func (e *Egress) Empty() bool { return len(e.Allow) == 0 && len(e.Deny) == 0 }

// FlowLimits holds one number per protocol; 0 means no limit.
type FlowLimits struct {
	TCP  int `toml:"tcp"`
	UDP  int `toml:"udp"`
	ICMP int `toml:"icmp"`
}

// Limits bound the flows one guest may open (outbound flows only:
// inbound forwards are the host's doing). A flow over a limit is refused
// as a denied one is.
type Limits struct {
	MaxFlows FlowLimits `toml:"max_flows"` // concurrent flows; --max-flows PROTO=N
	FlowRate FlowLimits `toml:"flow_rate"` // new flows per second; --flow-rate PROTO=N[/s]
}

// ForwardMode is the kind of a -t/-u/-T/-U spec.
type ForwardMode int

// Forward modes.
const (
	ForwardNone ForwardMode = iota // "none"
	ForwardSpec                    // explicit ports, ranges and excludes
	ForwardAll                     // "all": every non-ephemeral port not excluded
	ForwardAuto                    // "auto" (pasta): follow ports bound on the other side
)
