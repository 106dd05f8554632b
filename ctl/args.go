// SPDX-License-Identifier: GPL-2.0-or-later

package ctl

import (
	"errors"
	"fmt"
	"strings"
)

// ParseArgs reads the pesto command line, upstream's shape:
//
//	pesto [-s|--show] PATH
//	pesto -A|--add [-t|-u SPEC]... PATH
//	pesto -D|--delete [-t|-u SPEC]... PATH
//
// and returns PATH and the requests to send, in order: "list", or one
// "add -t SPEC" / "del -u SPEC" per rule. Upstream's -C PIF and -T/-U
// (rules for other interfaces) are refused.
func ParseArgs(args []string) (path string, reqs []string, err error) {
	verb := ""
	var rules []string
	show := false
	setVerb := func(v string) error {
		if verb != "" && verb != v {
			return errors.New("-A/--add and -D/--delete exclude each other")
		}
		verb = v
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-s" || a == "--show":
			show = true
		case a == "-A" || a == "--add":
			if err := setVerb("add"); err != nil {
				return "", nil, err
			}
		case a == "-D" || a == "--delete":
			if err := setVerb("del"); err != nil {
				return "", nil, err
			}
		case a == "-t" || a == "-u":
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("%s needs a SPEC", a)
			}
			i++
			rules = append(rules, a+" "+args[i])
		case len(a) > 2 && (strings.HasPrefix(a, "-t") || strings.HasPrefix(a, "-u")):
			rules = append(rules, a[:2]+" "+a[2:])
		case a == "-T" || a == "-U" || a == "-C" || strings.HasPrefix(a, "-T") || strings.HasPrefix(a, "-U") || strings.HasPrefix(a, "-C"):
			return "", nil, fmt.Errorf("%s: not supported by gopasst's control socket (only -t and -u)", a)
		case strings.HasPrefix(a, "-") && a != "-":
			return "", nil, fmt.Errorf("unknown option %s", a)
		default:
			if path != "" {
				return "", nil, fmt.Errorf("one PATH only (%s, %s)", path, a)
			}
			path = a
		}
	}
	if path == "" {
		return "", nil, errors.New("missing PATH of the control socket")
	}
	if verb == "" && len(rules) > 0 {
		return "", nil, errors.New("-t/-u rules need -A/--add or -D/--delete")
	}
	if verb != "" && len(rules) == 0 {
		return "", nil, errors.New("-A/--add and -D/--delete need -t or -u rules")
	}
	for _, r := range rules {
		reqs = append(reqs, verb+" "+r)
	}
	if show || verb == "" {
		reqs = append(reqs, "list")
	}
	return path, reqs, nil
}
