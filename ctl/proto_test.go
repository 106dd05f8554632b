// SPDX-License-Identifier: GPL-2.0-or-later

package ctl

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		line  string
		op    Op
		opt   byte
		ports int    // listeners of the rule
		err   string // substring; "" for none
		bad   bool   // ErrMalformed
	}{
		{line: "list", op: OpList},
		{line: "list\r", op: OpList},
		{line: "  list  ", op: OpList},
		{line: "add -t 8080", op: OpAdd, opt: 't', ports: 1},
		{line: "add -u 5353:53", op: OpAdd, opt: 'u', ports: 1},
		{line: "add -t 127.0.0.1/9000-9009:10000-10009", op: OpAdd, opt: 't', ports: 10},
		{line: "add -t [::1]/22", op: OpAdd, opt: 't', ports: 1},
		{line: "del -t 8080", op: OpDel, opt: 't', ports: 1},
		{line: "", err: "empty"},
		{line: "list all", err: "no argument"},
		{line: "frobnicate", err: "unknown request"},
		{line: "add 8080", err: "usage"},
		{line: "add -T 8080", err: "usage"},
		{line: "add -t 8080 9090", err: "usage"},
		{line: "add -t auto", err: "explicit ports"},
		{line: "add -t all", err: "explicit ports"},
		{line: "add -t ~22", err: "explicit ports"},
		{line: "add -t none", err: "nothing to forward"},
		{line: "add -t 1-65535", err: "at most 256"},
		{line: "add -t 0", err: "-t 0"},
		{line: "add -t 70000", err: "-t 70000"},
		{line: "add -t 80:", err: "-t 80:"},
		{line: "list\x00", bad: true, err: "0x00"},
		{line: "add -t 80\x1b[2J", bad: true},
		{line: "add -t \xff", bad: true},
		{line: "add -t " + strings.Repeat("1", MaxLine), bad: true, err: "longer"},
	} {
		r, err := Parse([]byte(tt.line))
		if tt.err != "" || tt.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", tt.line, r)
				continue
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q): error %q, want it to contain %q", tt.line, err, tt.err)
			}
			if got := errors.Is(err, ErrMalformed); got != tt.bad {
				t.Errorf("Parse(%q): malformed = %v, want %v", tt.line, got, tt.bad)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.line, err)
			continue
		}
		if r.Op != tt.op || r.Opt != tt.opt {
			t.Errorf("Parse(%q) = op %d opt %q, want %d %q", tt.line, r.Op, r.Opt, tt.op, tt.opt)
		}
		if tt.ports > 0 {
			if n := len(r.Fwd.Listeners()); n != tt.ports {
				t.Errorf("Parse(%q): %d listeners, want %d", tt.line, n, tt.ports)
			}
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		path string
		reqs string // joined by "|"
		err  string
	}{
		{args: []string{"/run/p.sock"}, path: "/run/p.sock", reqs: "list"},
		{args: []string{"-s", "/s"}, path: "/s", reqs: "list"},
		{args: []string{"--add", "-t", "0.0.0.0/8080", "-t", "[::]/8080", "/s"}, path: "/s",
			reqs: "add -t 0.0.0.0/8080|add -t [::]/8080"},
		{args: []string{"-A", "-u53", "-s", "/s"}, path: "/s", reqs: "add -u 53|list"},
		{args: []string{"-D", "-t", "8080", "/s"}, path: "/s", reqs: "del -t 8080"},
		{args: []string{"--delete", "-t", "8080", "/s"}, path: "/s", reqs: "del -t 8080"},
		{args: nil, err: "missing PATH"},
		{args: []string{"-t", "80", "/s"}, err: "need -A"},
		{args: []string{"-A", "/s"}, err: "need -t"},
		{args: []string{"-A", "-D", "-t", "1", "/s"}, err: "exclude"},
		{args: []string{"-A", "-T", "80", "/s"}, err: "not supported"},
		{args: []string{"-C", "tap0", "/s"}, err: "not supported"},
		{args: []string{"-A", "-t"}, err: "needs a SPEC"},
		{args: []string{"--frob", "/s"}, err: "unknown option"},
		{args: []string{"/a", "/b"}, err: "one PATH"},
	} {
		path, reqs, err := ParseArgs(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseArgs(%q): error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", tt.args, err)
			continue
		}
		if path != tt.path || strings.Join(reqs, "|") != tt.reqs {
			t.Errorf("ParseArgs(%q) = %q, %q; want %q, %q", tt.args, path, reqs, tt.path, tt.reqs)
		}
	}
}

// FuzzRequest feeds arbitrary lines to a Server's request path: never a
// panic, every answer ends in exactly one "ok" or "error" line, and a
// rule is never added beyond the limits.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{"list", "add -t 8080", "del -t 8080", "add -u 1-300", "add -t auto", "\x00", "add -t [::1]%lo/22:2022"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		o := &recorder{}
		s := &Server{cfg: Config{TCP: o, UDP: o}}
		s.log = discard
		for range 2 {
			s.request(line)
			out := string(s.out)
			if !strings.HasSuffix(out, "\n") {
				t.Fatalf("answer %q to %q does not end a line", out, line)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			last := lines[len(lines)-1]
			if last != "ok" && !strings.HasPrefix(last, "error ") {
				t.Fatalf("answer %q to %q: last line %q", out, line, last)
			}
		}
		if len(s.rules) > 1 || len(o.open) > MaxPorts {
			t.Fatalf("%q: %d rules, %d listeners", line, len(s.rules), len(o.open))
		}
	})
}
