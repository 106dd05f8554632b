// SPDX-License-Identifier: GPL-2.0-or-later

package l2_test

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatAndLicense checks that every Go file here and in l2test is
// gofmt-clean and starts with the SPDX line.
func TestFormatAndLicense(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("l2test/*.go")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d files", len(files))
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(src), "// SPDX-License-Identifier: GPL-2.0-or-later\n") {
			t.Errorf("%s: missing SPDX line", name)
		}
		out, err := format.Source(src)
		if err != nil || !bytes.Equal(out, src) {
			t.Errorf("%s: not gofmt-clean (%v)", name, err)
		}
	}
}
