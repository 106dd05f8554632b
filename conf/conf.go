// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"gopasst/policy"
)

// Sentinel errors for options that end parsing successfully: cmd/ prints
// Usage(mode), Version(mode) or Capabilities() on stdout and exits 0.
var (
	ErrHelp         = errors.New("help requested")
	ErrVersion      = errors.New("version requested")
	ErrCapabilities = errors.New("capabilities requested")
)

// Parse parses args (without argv[0]) for mode into a Config, as passt's
// conf(). If args name a --config file, it is loaded first with
// policy.Load and the command line is applied on top. Errors are one line;
// for unknown options and missing arguments they are glibc's getopt texts
// ("unrecognized option '--xyz'", "invalid option -- 'x'", "option '--mtu'
// requires an argument"), for bad values they start with the option name
// ("--mtu: invalid MTU \"abc\"").
func Parse(mode policy.Mode, args []string) (*policy.Config, error) {
	// First pass: find --config (the last one wins, as for any option).
	scratch := &parser{mode: mode, c: policy.NewConfig(mode), started: map[string]bool{}}
	if _, err := scratch.run(args); err != nil {
		return nil, err
	}
	file := scratch.c.ConfigFile
	if file == "" {
		return scratch.finish(args)
	}

	c := policy.NewConfig(mode)
	if err := policy.Load(file, c); err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	p := &parser{mode: mode, c: c, fromFile: true, started: map[string]bool{}}
	if _, err := p.run(args); err != nil {
		return nil, err
	}
	return p.finish(args)
}

// run applies every option in args; it returns the index of the first
// non-option argument.
func (p *parser) run(args []string) (int, error) {
	return getopt(args, options, func(o *option, val string) error {
		err := o.apply(p, o, val)
		var s errStop
		var pe plainError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &s):
			return s.err
		case errors.As(err, &pe):
			return err
		}
		return fmt.Errorf("%s: %w", o.name(), oneLine{err})
	})
}

// oneLine keeps an option's error on one line: the value it quotes may
// hold control characters (see printable).
type oneLine struct{ err error }

func (e oneLine) Error() string { return printable(e.err.Error()) }
func (e oneLine) Unwrap() error { return e.err }

// finish handles the positional arguments and the checks that need the
// whole command line, as the end of passt's conf().
func (p *parser) finish(args []string) (*policy.Config, error) {
	// Re-derive the index of the first non-option: run already succeeded.
	n, _ := getopt(args, options, func(*option, string) error { return nil })
	rest := args[n:]
	c := p.c

	if p.mode != policy.ModePasta {
		if len(rest) > 0 {
			return nil, fmt.Errorf("extra non-option argument: %s", printable(rest[0]))
		}
	} else {
		if c.NetNS != "" && len(rest) > 0 {
			return nil, errors.New("both --netns and PID or command given")
		}
		if len(rest) == 1 && isDigits(rest[0]) {
			pid, err := strconv.ParseUint(rest[0], 10, 31)
			if err != nil || pid == 0 {
				return nil, fmt.Errorf("invalid PID %s", rest[0])
			}
			c.TargetPID = int(pid)
		} else if len(rest) > 0 {
			c.Command = append([]string(nil), rest...)
		}
		if c.NetNS != "" && c.UserNS == "" {
			c.NetNSOnly = true // implied, as in passt's conf_pasta_ns()
		}
	}

	if c.Interface != "" { // also when it comes from the --config file
		if err := LookupInterface(c.Interface); err != nil {
			return nil, fmt.Errorf("invalid interface name %s: %v", c.Interface, err)
		}
	}
	if c.Stats > 0 && !c.Foreground && !(p.mode == policy.ModePasta && c.NetNS == "" && c.TargetPID == 0) {
		return nil, errors.New("--stats: can't display statistics if not running in foreground")
	}
	if p.noCopy != "" && !c.ConfigNet {
		return nil, fmt.Errorf("%s needs --config-net", p.noCopy)
	}
	if c.NoSplice && c.HostLoToNsLo {
		return nil, errors.New("--host-lo-to-ns-lo is incompatible with --no-splice")
	}
	if c.SpliceOnly && c.NoSplice {
		return nil, errors.New("--splice-only is incompatible with --no-splice")
	}
	if (p.repair || p.migrate) && !c.VhostUser {
		if p.repair {
			return nil, errors.New("--repair-path is for vhost-user mode only")
		}
		return nil, errors.New("--migrate-exit and --migrate-no-linger are for vhost-user mode only")
	}
	if c.Freebind { // IP_FREEBIND on the -t and -u listeners, as passt
		for _, f := range []*policy.Forward{c.TCPIn, c.UDPIn} {
			if f != nil {
				f.Freebind = true
			}
		}
	}
	if c.Netmask >= 0 {
		for i, a := range c.Addresses {
			if a.Addr().Is4() && a.Bits() < 0 {
				c.Addresses[i] = netip.PrefixFrom(a.Addr(), c.Netmask)
			}
		}
	}
	return c, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LookupInterface checks that the host has an interface called name (in
// the network namespace the parser runs in: the host's). A variable so
// that tests can parse -i without that interface.
var LookupInterface = func(name string) error {
	_, err := net.InterfaceByName(name)
	if errors.Is(err, syscall.ENODEV) || (err != nil && strings.Contains(err.Error(), "no such network interface")) {
		return syscall.ENODEV // "no such device", as if_nametoindex(3)
	}
	return err
}

// Unsupported lists the options cfg uses whose feature gopasst does not
// implement yet, so cmd/ can refuse them with "not yet supported". Live
// migration of a vhost-user guest (--repair-path, --migrate-exit,
// --migrate-no-linger) is one of them.
func Unsupported(cfg *policy.Config) []string {
	var out []string
	add := func(used bool, opt string) {
		if used {
			out = append(out, opt)
		}
	}
	add(cfg.ConfPath != "" && cfg.Mode != policy.ModePasta, "-c/--conf-path in passt mode")
	add(cfg.RepairPath != "" && cfg.RepairPath != "none", "--repair-path (live migration)")
	add(cfg.MigrateExit, "--migrate-exit (live migration)")
	add(cfg.MigrateNoLinger, "--migrate-no-linger (live migration)")
	add(cfg.SpliceOnly, "--splice-only")
	add(cfg.Mode == policy.ModePasta && cfg.Fd >= 0, "-F/--fd in pasta mode")
	return out
}
