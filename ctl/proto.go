// SPDX-License-Identifier: GPL-2.0-or-later

package ctl

import (
	"errors"
	"fmt"
	"strings"

	"gopasst/policy"
)

// Protocol limits.
const (
	MaxLine    = 512 // bytes in a request, "\n" included
	MaxPorts   = 256 // ports (listeners) one add may open
	MaxRules   = 64  // runtime rules at once
	MaxClients = 4   // clients connected at once
)

// Op is a request's verb.
type Op uint8

// Requests.
const (
	OpList Op = iota + 1
	OpAdd
	OpDel
)

// Request is one parsed request line.
type Request struct {
	Op   Op
	Opt  byte            // 't' or 'u' for add and del
	Spec string          // as given
	Fwd  *policy.Forward // Spec parsed, for add and del
}

// ErrMalformed marks a line that is not text: the client is closed.
var ErrMalformed = errors.New("malformed request")

// Parse parses one request line, without its "\n" (a trailing "\r" is
// allowed). Errors wrapping ErrMalformed are lines that are not
// printable ASCII or too long; the others are requests refused.
func Parse(line []byte) (Request, error) {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) >= MaxLine {
		return Request{}, fmt.Errorf("line longer than %d bytes: %w", MaxLine-1, ErrMalformed)
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return Request{}, fmt.Errorf("byte 0x%02x: %w", c, ErrMalformed)
		}
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return Request{}, errors.New("empty request")
	}
	switch f[0] {
	case "list":
		if len(f) != 1 {
			return Request{}, errors.New("list takes no argument")
		}
		return Request{Op: OpList}, nil
	case "add", "del":
	default:
		return Request{}, fmt.Errorf("unknown request %q (list, add, del)", f[0])
	}
	r := Request{Op: OpAdd}
	if f[0] == "del" {
		r.Op = OpDel
	}
	if len(f) != 3 || (f[1] != "-t" && f[1] != "-u") {
		return Request{}, fmt.Errorf("usage: %s -t|-u SPEC", f[0])
	}
	r.Opt, r.Spec = f[1][1], f[2]
	fw, err := ParseSpec(r.Opt, r.Spec)
	if err != nil {
		return Request{}, err
	}
	r.Fwd = fw
	return r, nil
}

// ParseSpec parses a -t or -u SPEC as a runtime rule: explicit ports
// only, at most MaxPorts of them.
func ParseSpec(opt byte, spec string) (*policy.Forward, error) {
	if spec == "none" {
		return nil, errors.New("-" + string(opt) + " none: nothing to forward")
	}
	fw, err := policy.ParseForward(spec, policy.NewForward(opt, policy.DefaultEphemeral), policy.ModePasta)
	if err != nil {
		return nil, fmt.Errorf("-%c %s: %w", opt, spec, err)
	}
	n := 0
	for _, r := range fw.Rules {
		if r.Auto || r.BestEffort {
			return nil, fmt.Errorf("-%c %s: only explicit ports can be added at run time", opt, spec)
		}
		n += int(r.Last) - int(r.First) + 1
	}
	if n == 0 {
		return nil, fmt.Errorf("-%c %s: no port", opt, spec)
	}
	if n > MaxPorts {
		return nil, fmt.Errorf("-%c %s: %d ports, at most %d at run time", opt, spec, n, MaxPorts)
	}
	return fw, nil
}
