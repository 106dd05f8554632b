// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		port  uint16
		state uint8
		ok    bool
	}{
		{"tcp listen", "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18101 1", 22, 0x0a, true},
		{"tcp6 listen", "   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000", 8081, 0x0a, true},
		{"lower case hex", "1: 0100007f:1f90 00000000:0000 0a", 8080, 0x0a, true},
		{"no trailing fields", "12: 0100007F:FFFF 00000000:0000 07", 65535, 7, true},
		{"one-digit state", "12: 0100007F:0001 00000000:0000 7", 1, 7, true},
		{"header", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when", 0, 0, false},
		{"empty", "", 0, 0, false},
		{"three fields", "0: 00000000:0016 00000000:0000", 0, 0, false},
		{"no colon after sl", "0 00000000:0016 00000000:0000 0A", 0, 0, false},
		{"sl not decimal", "a: 00000000:0016 00000000:0000 0A", 0, 0, false},
		{"address 7 digits", "0: 0000000:0016 00000000:0000 0A", 0, 0, false},
		{"address 16 digits", "0: 0000000000000000:0016 00000000:0000 0A", 0, 0, false},
		{"port 5 digits", "0: 00000000:10016 00000000:0000 0A", 0, 0, false},
		{"port empty", "0: 00000000: 00000000:0000 0A", 0, 0, false},
		{"port not hex", "0: 00000000:00G6 00000000:0000 0A", 0, 0, false},
		{"bad remote", "0: 00000000:0016 0000:0000 0A", 0, 0, false},
		{"state 3 digits", "0: 00000000:0016 00000000:0000 00A", 0, 0, false},
		{"tab separated", "0:\t00000000:0016\t00000000:0000\t0A", 0, 0, false},
		{"too long", "0: 00000000:0016 00000000:0000 0A " + strings.Repeat("x", MaxLineLen), 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port, state, ok := parseLine([]byte(tc.line))
			if ok != tc.ok || port != tc.port || state != tc.state {
				t.Fatalf("parseLine = %d, %#x, %v; want %d, %#x, %v", port, state, ok, tc.port, tc.state, tc.ok)
			}
		})
	}
}

// parseAll runs a tableParser over data delivered in pieces of chunk
// bytes and returns the ports found and the lines skipped.
func parseAll(data []byte, state uint8, chunk int) ([]uint16, int) {
	var set portSet
	p := tableParser{buf: make([]byte, readBufSize)}
	p.reset(state, &set)
	for len(data) > 0 {
		sp := p.space()
		n := copy(sp[:min(len(sp), chunk)], data)
		data = data[n:]
		p.feed(n)
	}
	p.end()
	return set.ports(), p.bad
}

// ports lists the members of s in ascending order.
func (s *portSet) ports() []uint16 {
	var out []uint16
	for p := range 65536 {
		if s.has(uint16(p)) {
			out = append(out, uint16(p))
		}
	}
	return out
}

func TestParseTableFixtures(t *testing.T) {
	tests := []struct {
		file  string
		state uint8
		want  []uint16
	}{
		{"tcp", StateTCPListen, []uint16{22, 631, 8080}},
		{"tcp6", StateTCPListen, []uint16{22, 8081}},
		{"udp", StateUDPUnconned, []uint16{53, 67}},
		{"udp6", StateUDPUnconned, []uint16{546}},
		{"tcp", 0x01, []uint16{22}},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+strconv.Itoa(int(tc.state)), func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, chunk := range []int{1, 7, 64, 150, readBufSize} {
				got, bad := parseAll(data, tc.state, chunk)
				if !slices.Equal(got, tc.want) || bad != 1 {
					t.Fatalf("chunk %d: ports %v, %d bad lines; want %v and 1 (the header)", chunk, got, bad, tc.want)
				}
			}
		})
	}
}

func TestParseTableLongLines(t *testing.T) {
	long := "   9: 00000000:0050 00000000:0000 0A " + strings.Repeat("0", 2*MaxLineLen)
	data := "header\n" + long + "\n   1: 00000000:0051 00000000:0000 0A\n" + long + "\n   2: 00000000:0052 00000000:0000 0A"
	for _, chunk := range []int{1, 100, MaxLineLen, 4096} {
		got, bad := parseAll([]byte(data), StateTCPListen, chunk)
		if !slices.Equal(got, []uint16{81, 82}) || bad != 3 {
			t.Fatalf("chunk %d: ports %v, %d bad; want [81 82], 3", chunk, got, bad)
		}
	}
}

// refLine is the reference model of a table line, written independently
// of parseLine: a regular expression.
var refLine = regexp.MustCompile(`^ *([0-9]{1,10}): +(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{1,4}) +(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):[0-9A-Fa-f]{1,4} +([0-9A-Fa-f]{1,2})(?: .*)?$`)

// refParse is the reference model of a whole table.
func refParse(data []byte, state uint8) []uint16 {
	var set portSet
	for _, l := range strings.Split(string(data), "\n") {
		if len(l) > MaxLineLen {
			continue
		}
		m := refLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		port, _ := strconv.ParseUint(m[2], 16, 16)
		st, _ := strconv.ParseUint(m[3], 16, 8)
		if uint8(st) == state && port != 0 {
			set.add(uint16(port))
		}
	}
	return set.ports()
}

func FuzzParseProcNet(f *testing.F) {
	for _, name := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, byte(200), byte(StateTCPListen))
		f.Add(data, byte(3), byte(StateUDPUnconned))
	}
	f.Add([]byte("0: 00000000:0016 00000000:0000 0A"), byte(0), byte(StateTCPListen))
	f.Add([]byte(strings.Repeat(" ", MaxLineLen+1)+"\n1: 00000000:0016 00000000:0000 0A\n"), byte(255), byte(StateTCPListen))
	f.Fuzz(func(t *testing.T, data []byte, chunk, state byte) {
		got, _ := parseAll(data, state, 1+int(chunk))
		if want := refParse(data, state); !slices.Equal(got, want) {
			t.Fatalf("chunk %d state %#x: ports %v, reference %v", 1+int(chunk), state, got, want)
		}
	})
}
