// SPDX-License-Identifier: GPL-2.0-or-later

// Package fwd is port forwarding and address translation, as passt's
// fwd.c: the sockets forwarded traffic arrives on (Listen, Accept), the
// address mapping between the guest's view and the host's sockets
// (HostDestination, GuestSource), and pasta's "auto" forwarding, which
// watches which ports are bound on one side and reports the changes
// (Scanner).
//
// The forwarding rules themselves (-t, -u, -T, -U and their TOML form) are
// parsed into policy.Forward; the protocol handlers (proto/tcp,
// proto/splice, proto/udp) own the listeners this package opens for them
// and register them with the engine's poller.
//
// # Listeners
//
// Listen opens one socket for a ListenSpec: non-blocking and close-on-exec,
// SO_REUSEADDR, IPV6_V6ONLY as the spec says for an AF_INET6 socket,
// SO_BINDTODEVICE for a rule with an interface, bound, and listening for
// TCP. The spec's SocketFunc opens it in the host's namespace (-t, -u) or
// inside pasta's target namespace (-T, -U, through netns.Worker). The
// caller chooses the family and IPV6_V6ONLY: TCP listeners follow the
// guest's families and make a listener on an explicit IPv6 address IPv6
// only, as passt; splice and UDP listeners on "::" serve both families.
// LocalPort reads back the port the kernel picked for port 0.
//
// Accept is accept4(2) into a raw address the handler owns, and
// RawAddrPort decodes it, unmapping IPv4-mapped addresses: neither
// allocates, so a burst of connections costs no garbage.
//
// # Address mapping
//
// HostDestination maps the destination of a flow the guest opens to what
// the host's socket connects to (--dns-forward port 53 to --dns-host,
// --map-host-loopback to the host's loopback, --map-guest-addr to the
// host's own address); GuestSource and GuestSourcePort map a host-side
// source back to what the guest sees. The addresses come from the
// guest.Net the handlers share; NAT wraps one for handlers that take the
// mapping as an interface. Mirrors fwd_nat_from_tap() and
// fwd_nat_from_host(). No allocation.
//
// # Auto forwarding
//
// Mirrors procfs_scan_listen(), fwd_scan_ports_tcp() and
// fwd_scan_ports_udp().
//
// A Scanner reads the kernel's socket tables, /proc/net/tcp and tcp6 (and
// for UDP also udp and udp6), of one network namespace. The files are
// opened once, by NewScanner from a directory such as /proc/PID/net (a
// process inside the namespace: pasta's target or spawned command) or
// /proc/self/net (the daemon's own, host namespace), or by NewScannerOpen
// with a caller's open function, for instance one that opens
// /proc/thread-self/net/NAME on a netns.Worker thread. Keeping them open
// lets scanning go on after the sandbox has hidden /proc, as passt keeps
// its scan4/scan6 descriptors; each scan seeks back to the start.
//
// Scan is driven from the engine's Tick with the monotonic time and does
// the work at most once per ScanInterval (1 s, passt's timer). It reads
// each table into a fixed buffer, one line at a time, takes the local port
// of every socket in the listening state (TCP 0A, TCP_LISTEN; UDP 07,
// unconnected), and builds a 65536-bit set. For UDP it also adds the
// listening TCP ports, as passt does for protocols such as iperf3 that
// pair a TCP control port with a UDP data port. It then drops:
//
//   - ports that no Auto rule of the Forward covers, and excluded ports
//     (Forward.LookupRule): "-t auto" covers the non-ephemeral ports
//     (1-32767 and 61000-65535 with Linux's default range), as in passt
//     2026, "-t 8000-8010,auto" only 8000-8010, "-t auto,~22" all but 22
//     and the ephemeral ones. Ports of non-Auto rules already have static
//     listeners and are left out.
//   - ports for which own returns true: the ports gopasst itself holds on
//     the scanned side (its -T listeners when scanning the namespace, its
//     -t listeners when scanning the host), which would otherwise be
//     forwarded back. passt excludes the reverse direction's map the same
//     way.
//
// The set is compared with the previous scan's: added and removed ports
// are returned in ascending order, in slices the Scanner reuses. A port
// appears in added as soon as it is bound, for the caller to open its
// listener on the other side (Listener gives the policy.Listener for it,
// with the target port of its rule), and in removed once nothing binds it.
// On a read error the previous set is kept and nothing is reported.
//
// # Parsing
//
// Lines are split on spaces: "SL: LOCAL REMOTE ST ...", LOCAL and REMOTE
// being ADDR:PORT in hex (8 or 32 digits of address, 1 to 4 of port), ST
// one or two hex digits. Lines longer than MaxLineLen bytes, and lines
// that do not match (the header among them), are skipped and counted, never
// fatal. No allocation per scan.
//
// A Scanner is not safe for concurrent use; the functions keep no state.
package fwd
