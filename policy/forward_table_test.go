// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestForwardSpecsTable runs testdata/forward_specs.txt: for every line,
// the -t/-u/-T/-U options must be refused if upstream passt 2026 refuses
// them, and otherwise make the same rules, printed as upstream prints them.
// testdata/forward_specs.sh checks the same table against upstream's
// binary.
func TestForwardSpecsTable(t *testing.T) {
	fh, err := os.Open("testdata/forward_specs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		args, want, ok := strings.Cut(l, "|")
		if !ok {
			t.Fatalf("line %d: no '|': %q", line, l)
		}
		want = strings.TrimSpace(want)
		words, err := shellWords(args)
		if err != nil || len(words) < 1 || len(words)%2 != 1 {
			t.Fatalf("line %d: bad options %q", line, args)
		}
		n++
		mode := ModePasst
		if words[0] == "pasta" {
			mode = ModePasta
		}
		if got := tableRules(mode, words[1:]); got != want {
			t.Errorf("line %d: %s\n  got:  %s\n  want: %s", line, strings.TrimSpace(args), got, want)
		}
	}
	if n < 100 {
		t.Fatalf("only %d lines in the table", n)
	}
}

// tableRules applies pairs of "-t SPEC" and returns what the table says:
// "error", or the rules grouped -t, -u, -T, -U joined by "; ", or "none".
func tableRules(mode Mode, opts []string) string {
	fw := map[byte]*Forward{}
	for i := 0; i < len(opts); i += 2 {
		flag := opts[i]
		if len(flag) != 2 || flag[0] != '-' || !strings.Contains("tuTU", flag[1:]) {
			return "bad option " + flag
		}
		opt := flag[1]
		if (opt == 'T' || opt == 'U') && mode != ModePasta {
			return "error"
		}
		if fw[opt] == nil {
			fw[opt] = NewForward(opt, DefaultEphemeral)
		}
		f, err := ParseForward(opts[i+1], fw[opt], mode)
		if err != nil {
			return "error"
		}
		fw[opt] = f
	}
	var rules []string
	for _, opt := range []byte("tuTU") {
		rules = append(rules, fw[opt].RuleStrings()...)
	}
	if len(rules) == 0 {
		return "none"
	}
	return strings.Join(rules, "; ")
}

// shellWords splits s at blanks, with single quotes as the shell has them.
func shellWords(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			w.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, os.ErrInvalid
	}
	if inWord {
		out = append(out, w.String())
	}
	return out, nil
}
