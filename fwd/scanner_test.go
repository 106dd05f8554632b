// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopasst/policy"
)

// procDir copies the fixture tables into a fresh directory standing for
// /proc/PID/net.
func procDir(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// forward parses specs into one Forward, for pasta.
func forward(t testing.TB, specs ...string) *policy.Forward {
	t.Helper()
	var f *policy.Forward
	for _, s := range specs {
		var err error
		if f, err = policy.ParseForward(s, f, policy.ModePasta); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestScanFixtures(t *testing.T) {
	tests := []struct {
		name  string
		proto string
		specs []string
		own   []uint16
		want  []uint16
	}{
		{"tcp, every port", "tcp", nil, nil, []uint16{22, 631, 8080, 8081}},
		{"tcp auto", "tcp", []string{"auto"}, nil, []uint16{22, 631, 8080, 8081}},
		{"tcp auto within a range", "tcp", []string{"8000-8100,auto"}, nil, []uint16{8080, 8081}},
		{"tcp auto with exclude", "tcp", []string{"auto,~22"}, nil, []uint16{631, 8080, 8081}},
		{"exclude range", "tcp", []string{"auto,~8080-8081"}, nil, []uint16{22, 631}},
		{"auto on an address", "tcp", []string{"127.0.0.1/auto"}, nil, []uint16{22, 631, 8080, 8081}},
		{"static rule not scanned", "tcp", []string{"22", "auto,~22"}, nil, []uint16{631, 8080, 8081}},
		{"own ports skipped", "tcp", []string{"auto"}, []uint16{631, 8081}, []uint16{22, 8080}},
		{"no auto rule", "tcp", []string{"1-65535"}, nil, nil},
		{"udp adds tcp ports", "udp", []string{"auto"}, nil, []uint16{22, 53, 67, 546, 631, 8080, 8081}},
		{"udp range", "udp", []string{"1-100,auto"}, []uint16{53}, []uint16{22, 67}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *policy.Forward
			if tc.specs != nil {
				f = forward(t, tc.specs...)
			}
			own := func(p uint16) bool { return slices.Contains(tc.own, p) }
			s := NewScanner(procDir(t, "tcp", "tcp6", "udp", "udp6"), tc.proto, f, own)
			defer s.Close()
			added, removed, err := s.Scan(0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(added, tc.want) || len(removed) != 0 {
				t.Fatalf("added %v removed %v; want added %v", added, removed, tc.want)
			}
			for _, p := range tc.want {
				if !s.Bound(p) {
					t.Errorf("Bound(%d) false", p)
				}
			}
		})
	}
}

// rewrite replaces a fixture table in dir with the given lines.
func rewrite(t testing.TB, dir, name string, lines ...string) {
	t.Helper()
	data := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The scanner keeps its descriptors, as it must once /proc is hidden; the
// tests change the files in place so that the open descriptors see it.
func truncWrite(t testing.TB, dir, name string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := "  sl  local_address rem_address   st\n" + strings.Join(lines, "\n") + "\n"
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func listen4(port string) string {
	return "   0: 00000000:" + port + " 00000000:0000 0A 00000000:00000000"
}

func TestScanDiff(t *testing.T) {
	dir := t.TempDir()
	rewrite(t, dir, "tcp", listen4("0050"), listen4("01BB"))
	s := NewScanner(dir, "tcp", nil, nil) // no tcp6: fine
	defer s.Close()
	const sec = ScanInterval

	steps := []struct {
		name           string
		now            int64
		lines          []string // new table, nil = unchanged
		added, removed []uint16
	}{
		{"first scan reports all", 0, nil, []uint16{80, 443}, nil},
		{"unchanged", sec, nil, nil, nil},
		{"one more, one gone", 2 * sec, []string{listen4("0050"), listen4("1F90")}, []uint16{8080}, []uint16{443}},
		{"too early: not scanned", 2*sec + sec/2, []string{}, nil, nil},
		{"all gone", 3*sec + sec/2, nil, nil, []uint16{80, 8080}},
		{"duplicate lines count once", 5 * sec, []string{listen4("0016"), listen4("0016")}, []uint16{22}, nil},
	}
	for _, st := range steps {
		if st.lines != nil {
			truncWrite(t, dir, "tcp", st.lines...)
		}
		added, removed, err := s.Scan(st.now)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !slices.Equal(added, st.added) || !slices.Equal(removed, st.removed) {
			t.Fatalf("%s: added %v removed %v; want %v %v", st.name, added, removed, st.added, st.removed)
		}
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name, dir, proto string
	}{
		{"bad protocol", "testdata", "sctp"},
		{"no tables", "/nonexistent", "tcp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner(tc.dir, tc.proto, nil, nil)
			defer s.Close()
			if _, _, err := s.Scan(0); err == nil {
				t.Fatal("Scan succeeded")
			}
		})
	}
}

func TestScanReadErrorKeepsState(t *testing.T) {
	dir := procDir(t, "tcp")
	s := NewScanner(dir, "tcp", nil, nil)
	defer s.Close()
	if added, _, err := s.Scan(0); err != nil || len(added) != 3 {
		t.Fatalf("added %v, %v", added, err)
	}
	s.Close()
	s.tables[0].fd = 1 << 20 // not open: the read fails with EBADF
	added, removed, err := s.Scan(ScanInterval)
	if err == nil || added != nil || removed != nil || !s.Bound(8080) {
		t.Fatalf("after a read error: added %v removed %v err %v Bound(8080) %v", added, removed, err, s.Bound(8080))
	}
}

func TestListener(t *testing.T) {
	f := forward(t, "127.0.0.1/8000-8010:9000-9010,auto")
	s := NewScanner("testdata", "tcp", f, nil)
	defer s.Close()
	l, ok := s.Listener(8005)
	if !ok || l.Port != 8005 || l.ToPort != 9005 || l.Bind.String() != "127.0.0.1" {
		t.Fatalf("Listener(8005) = %+v, %v", l, ok)
	}
	if _, ok := s.Listener(7999); ok {
		t.Fatal("Listener(7999) found a rule")
	}
	if l, ok := NewScanner("testdata", "tcp", nil, nil).Listener(22); !ok || l.ToPort != 22 {
		t.Fatalf("nil Forward: %+v, %v", l, ok)
	}
}

func TestScanAllocs(t *testing.T) {
	s := NewScanner(procDir(t, "tcp", "tcp6", "udp", "udp6"), "udp", forward(t, "auto"), func(p uint16) bool { return p == 22 })
	defer s.Close()
	now := int64(0)
	allocs := testing.AllocsPerRun(20, func() {
		now += ScanInterval
		if _, _, err := s.Scan(now); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per scan", allocs)
	}
}

func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	var lines []string
	for i := range 2000 { // a busy host
		lines = append(lines, listen4(hex4(i+1)))
	}
	rewrite(b, dir, "tcp", lines...)
	s := NewScanner(dir, "tcp", nil, nil)
	defer s.Close()
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		now += ScanInterval
		s.Scan(now)
	}
}

func hex4(i int) string {
	const d = "0123456789ABCDEF"
	return string([]byte{d[i>>12&15], d[i>>8&15], d[i>>4&15], d[i&15]})
}
