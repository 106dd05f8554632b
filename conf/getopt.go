// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// printable returns s as is if it is printable, else escaped as Go does in
// a quoted string, without the quotes: error messages stay on one line.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// option is one entry of the option table, as struct option in getopt.h.
type option struct {
	long  string // without "--"; "" if short only
	short byte   // 0 if long only
	arg   bool   // required_argument
	apply func(p *parser, o *option, val string) error
}

// name is how errors refer to the option: its long form if it has one.
func (o *option) name() string {
	if o.long != "" {
		return "--" + o.long
	}
	return "-" + string(o.short)
}

// getopt walks args as glibc getopt_long with a leading '+' in optstring,
// calling visit for each option in order. It returns the index of the first
// non-option argument.
func getopt(args []string, table []option, visit func(o *option, val string) error) (int, error) {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			return i + 1, nil
		}
		if len(a) < 2 || a[0] != '-' {
			return i, nil
		}
		i++
		if a[1] == '-' {
			name, val, hasVal := strings.Cut(a[2:], "=")
			o, err := lookupLong(table, name, a)
			if err != nil {
				return i, err
			}
			switch {
			case !o.arg && hasVal:
				return i, fmt.Errorf("option '--%s' doesn't allow an argument", o.long)
			case o.arg && !hasVal:
				if i >= len(args) {
					return i, fmt.Errorf("option '--%s' requires an argument", o.long)
				}
				val = args[i]
				i++
			}
			if err := visit(o, val); err != nil {
				return i, err
			}
			continue
		}
		// Cluster of short options.
		for j := 1; j < len(a); j++ {
			o := lookupShort(table, a[j])
			if o == nil {
				return i, fmt.Errorf("invalid option -- '%s'", printable(a[j:j+1]))
			}
			val := ""
			if o.arg {
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i < len(args) {
					val = args[i]
					i++
				} else {
					return i, fmt.Errorf("option requires an argument -- '%c'", a[j])
				}
				j = len(a)
			}
			if err := visit(o, val); err != nil {
				return i, err
			}
		}
	}
	return i, nil
}

// lookupLong finds a long option by exact name or unambiguous prefix.
// Aliases (same short letter, as --socket and --socket-path) do not make a
// prefix ambiguous, as glibc compares has_arg, flag and val.
func lookupLong(table []option, name, arg string) (*option, error) {
	var matches []*option
	for k := range table {
		o := &table[k]
		if o.long == "" {
			continue
		}
		if o.long == name {
			return o, nil
		}
		if name == "" || !strings.HasPrefix(o.long, name) {
			continue
		}
		alias := false
		for _, m := range matches {
			alias = alias || (m.short != 0 && m.short == o.short && m.arg == o.arg)
		}
		if !alias {
			matches = append(matches, o)
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("unrecognized option '%s'", printable(arg))
	case 1:
		return matches[0], nil
	}
	var names []string
	for _, m := range matches {
		names = append(names, "'--"+m.long+"'")
	}
	return nil, fmt.Errorf("option '--%s' is ambiguous; possibilities: %s", printable(name), strings.Join(names, " "))
}

func lookupShort(table []option, c byte) *option {
	for k := range table {
		if table[k].short == c {
			return &table[k]
		}
	}
	return nil
}
