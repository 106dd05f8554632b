// SPDX-License-Identifier: GPL-2.0-or-later

// Package conf parses passt's and pasta's command line into a policy.Config.
// It mirrors conf() in passt's conf.c.
//
// # Where configuration lives
//
// Three packages, one direction: conf → policy → guest.
//
//   - conf (this package) is the argv parser only. Parse turns the command
//     line, and with --config the TOML file (through policy.Load), into a
//     *policy.Config. It defines no configuration types of its own.
//   - policy is the typed configuration and the rules: Config, the
//     forwarding rules (Forward) and the egress policy, and Load for the
//     TOML file. The TOML file and the command line both produce a
//     policy.Config, so the type lives with neither front end.
//   - guest is the run-time view: guest.Resolve combines the Config with
//     what the host's routing table says (guest.HostInfoFromKernel) into
//     one guest.Net, which the engine and every protocol handler read.
//     Handlers never read argv or the TOML file; the forwarding rules reach
//     them as policy.Listener values (cmd/internal/handlers passes
//     Forward.Listeners, opened with fwd.Listen), and the auto scanner
//     (fwd.Scanner) looks ports up in the Forward itself.
//
// # Theory of operation
//
// Parsing follows glibc getopt_long with passt's option string
// "+dqfel:hs:c:F:I:p:P:m:a:n:M:g:i:o:D:S:H:461t:u:T:U:": short options may
// be clustered ("-fq") and take their argument attached or from the next
// word ("-t22", "-t 22"); long options take "--opt value" or "--opt=value"
// and may be abbreviated to any unambiguous prefix; parsing stops at the
// first non-option or after "--". Error texts for unknown options and
// missing arguments are glibc's, because callers match them (podman retries
// without --map-guest-addr on "unrecognized option '--map-guest-addr").
//
// Options are applied in order, so the last occurrence wins, except for
// the ones that accumulate (-t -u -T -U -D -S) or keep one value per IP
// family (-a -g -o --dns-forward --dns-host --map-host-loopback
// --map-guest-addr). Mode checks ("--netns is for pasta mode only") happen
// as each option is seen; consistency checks that need the whole line
// (-a ADDR/PLEN with -n, --stats without -f, PID versus --netns) run after.
//
// --config FILE is our own: the TOML file is loaded first (policy.Load),
// then the command line is applied on top. A scalar option replaces the
// file's value; the first occurrence of a list option replaces the file's
// list, later ones accumulate.
//
// --help, --version and --print-capabilities stop parsing and are reported
// as the sentinel errors ErrHelp, ErrVersion and ErrCapabilities: cmd/
// prints Usage, Version or Capabilities and exits 0.
//
// # Limits
//
// Some options are accepted and recorded although their feature is not
// built yet; Unsupported lists those that a Config uses.
package conf
