// SPDX-License-Identifier: GPL-2.0-or-later

package conf

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"gopasst/policy"
)

// manOption is one option entry of a man page: the names on the line
// after a .TP in the OPTIONS section.
type manOption struct {
	long  []string // without "--"
	short []byte
	line  int
}

// manQuoted matches a quoted option name on an entry line: "\-d", "\-\-debug".
var manQuoted = regexp.MustCompile(`"((?:\\-){1,2})([A-Za-z0-9](?:[A-Za-z0-9]|\\-)*)"`)

// readManOptions returns the option entries of the OPTIONS section of the
// man page at path. Entries are written as
//
//	.TP
//	.BR "\-d" ", " "\-\-debug"
func readManOptions(t *testing.T, path string) []manOption {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []manOption
	in, afterTP := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.HasPrefix(l, ".SH ") {
			in = l == ".SH OPTIONS"
			continue
		}
		if !in {
			continue
		}
		if l == ".TP" {
			afterTP = true
			continue
		}
		if afterTP {
			afterTP = false
			var o manOption
			for _, m := range manQuoted.FindAllStringSubmatch(l, -1) {
				name := strings.ReplaceAll(m[2], `\-`, "-")
				if m[1] == `\-\-` {
					o.long = append(o.long, name)
				} else if len(name) == 1 {
					o.short = append(o.short, name[0])
				} else {
					t.Errorf("%s:%d: single dash before a long name %q", path, n, name)
				}
			}
			if len(o.long) == 0 {
				t.Errorf("%s:%d: option entry without a long name: %q", path, n, l)
				continue
			}
			o.line = n
			out = append(out, o)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// otherMode matches the parser's refusal of an option of the other mode.
var otherMode = regexp.MustCompile(`is for (pasta|passt)\b.*mode only`)

// validIn reports whether the parser accepts o in mode, as far as the
// mode goes: a value it dislikes is still an option of the mode.
func validIn(o *option, mode policy.Mode) bool {
	args := []string{"--" + o.long}
	if o.arg {
		args[0] += "=x"
	}
	_, err := Parse(mode, args)
	return err == nil || !otherMode.MatchString(err.Error())
}

// TestManPagesMatchOptions checks doc/passt.1 and doc/pasta.1 against the
// option table, both ways: each page lists exactly the options its mode
// accepts, each with the short name the parser gives it.
func TestManPagesMatchOptions(t *testing.T) {
	for _, tc := range []struct {
		page string
		mode policy.Mode
	}{
		{"../doc/passt.1", policy.ModePasst},
		{"../doc/pasta.1", policy.ModePasta},
	} {
		t.Run(tc.page, func(t *testing.T) {
			onPage := map[string]manOption{}
			for _, mo := range readManOptions(t, tc.page) {
				for _, l := range mo.long {
					if _, dup := onPage[l]; dup {
						t.Errorf("%s:%d: --%s listed twice", tc.page, mo.line, l)
					}
					onPage[l] = mo
				}
			}
			if len(onPage) < 40 {
				t.Fatalf("%s: only %d options found: the page's format changed?", tc.page, len(onPage))
			}
			inTable := map[string]*option{}
			for i := range options {
				o := &options[i]
				inTable[o.long] = o
				mo, listed := onPage[o.long]
				switch valid := validIn(o, tc.mode); {
				case valid && !listed:
					t.Errorf("%s: --%s is accepted in this mode but missing from the page", tc.page, o.long)
				case !valid && listed:
					t.Errorf("%s:%d: --%s is listed but refused in this mode", tc.page, mo.line, o.long)
				case valid && o.short != 0 && !bytes.Contains(mo.short, []byte{o.short}):
					t.Errorf("%s:%d: --%s is listed without its short form -%c", tc.page, mo.line, o.long, o.short)
				}
			}
			for l, mo := range onPage {
				o, ok := inTable[l]
				if !ok {
					t.Errorf("%s:%d: --%s is not an option of the parser", tc.page, mo.line, l)
					continue
				}
				for _, s := range mo.short {
					if s != o.short {
						t.Errorf("%s:%d: -%c listed with --%s, whose short form is %q", tc.page, mo.line, s, l, o.short)
					}
				}
			}
		})
	}
}

// TestManPagesRender renders both pages with groff's warnings on and with
// man -l, when they are installed (./dev deps installs groff and man-db):
// any message on stderr fails the test.
func TestManPagesRender(t *testing.T) {
	for _, page := range []string{"../doc/passt.1", "../doc/pasta.1"} {
		for _, argv := range [][]string{
			{"groff", "-man", "-ww", "-z", page},
			{"man", "--warnings", "-E", "UTF-8", "-l", page},
		} {
			if _, err := exec.LookPath(argv[0]); err != nil {
				t.Logf("%s not installed: not rendered with it", argv[0])
				continue
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
			}
			if argv[0] == "man" && !strings.Contains(stdout.String(), "EXIT STATUS") {
				t.Errorf("%s: no EXIT STATUS section in the output", strings.Join(argv, " "))
			}
		}
	}
}
