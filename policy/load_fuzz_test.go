// SPDX-License-Identifier: GPL-2.0-or-later

package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary TOML to Load: it never panics, and when it
// fails, the error is one line that names the file (what the binaries
// print before exiting 1).
func FuzzLoad(f *testing.F) {
	if b, err := os.ReadFile("testdata/example.toml"); err == nil {
		f.Add(string(b))
	}
	f.Add("mtu = 1500\n")
	f.Add("mtu = \"abc\"\n")
	f.Add("address = [\"10.0.0.2/24\", \"2001:db8::2\"]\ntcp_ports = [\"22:2022\", \"~8080\"]\n")
	f.Add("[egress]\nallow = [\"10.0.0.0/8\"]\ndeny = [\"10.1.0.0/16\"]\n")
	f.Add("unknown_key = 1\n")
	f.Add("netmask = 99\n")
	f.Fuzz(func(t *testing.T, src string) {
		path := filepath.Join(t.TempDir(), "gopasst.toml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := NewConfig(ModePasta)
		err := Load(path, cfg)
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Fatalf("error spans lines: %q", msg)
		}
		if !strings.Contains(msg, "gopasst.toml") {
			t.Fatalf("error does not name the file: %q", msg)
		}
	})
}
