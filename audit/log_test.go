// SPDX-License-Identifier: GPL-2.0-or-later

package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestAppendJSON(t *testing.T) {
	ts := time.Date(2026, 12, 5, 19, 24, 4, 123456789, time.UTC)
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"open", Event{Time: ts, Kind: KindOpen, Proto: "tcp", Dir: Outbound,
			Guest: netip.MustParseAddrPort("10.0.2.15:41000"), Host: netip.MustParseAddrPort("10.202.0.1:80")},
			`{"time":"2026-12-05T19:24:04.123456789Z","event":"open","proto":"tcp","dir":"outbound","guest":"10.0.2.15:41000","host":"10.202.0.1:80","rule":null}` + "\n"},
		{"close v6", Event{Time: ts, Kind: KindClose, Proto: "udp", Dir: Inbound,
			Guest: netip.MustParseAddrPort("[fd00::2]:53"), Host: netip.MustParseAddrPort("[::1]:5353"),
			Rule: "udp:[fd00::/8]:53", BytesFromGuest: 5, BytesToGuest: 1 << 40, Duration: 1500 * time.Millisecond},
			`{"time":"2026-12-05T19:24:04.123456789Z","event":"close","proto":"udp","dir":"inbound","guest":"[fd00::2]:53","host":"[::1]:5353","rule":"udp:[fd00::/8]:53","bytes_from_guest":5,"bytes_to_guest":1099511627776,"duration_ns":1500000000}` + "\n"},
		{"icmp no port", Event{Time: ts, Kind: KindDeny, Proto: "icmp",
			Guest: netip.AddrPortFrom(netip.MustParseAddr("10.0.2.15"), 0), Host: netip.AddrPortFrom(netip.MustParseAddr("10.202.0.1"), 0),
			Rule: "preset:private"},
			`{"time":"2026-12-05T19:24:04.123456789Z","event":"deny","proto":"icmp","dir":"outbound","guest":"10.0.2.15","host":"10.202.0.1","rule":"preset:private"}` + "\n"},
		{"escapes", Event{Time: ts, Kind: KindLimit, Proto: "tcp", Rule: "a\"b\\c\n\x01\xff"},
			`{"time":"2026-12-05T19:24:04.123456789Z","event":"limit","proto":"tcp","dir":"outbound","guest":null,"host":null,"rule":"a\"b\\c\u000a\u0001\u00ff"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendJSON(nil, &tt.ev))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Errorf("encoding/json: %v", err)
			}
		})
	}
}

func TestLogLinesParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := range n {
		l.Emit(&Event{Kind: Kind(i % 4), Proto: "tcp", Guest: netip.MustParseAddrPort("10.0.2.15:1"),
			Host: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(i)),
			Rule: string(rune('a' + i%26)), BytesFromGuest: uint64(i)})
	}
	if err := l.Close(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d %q: %v", lines, sc.Text(), err)
		}
		lines++
	}
	if lines+int(l.Dropped()) != n || l.Emitted() != uint64(lines) {
		t.Errorf("%d lines + %d dropped != %d (emitted %d)", lines, l.Dropped(), n, l.Emitted())
	}
}

// TestLogFullRingDrops: a writer that never drains (a pipe nobody reads,
// once its kernel buffer is full) must not block Emit: events are dropped
// and counted.
func TestLogFullRingDrops(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	fill := make([]byte, 4096)
	for { // fill the pipe: the writer's first write waits for good
		if _, err := unix.Write(p[1], fill); err != nil {
			break
		}
	}
	r, w := os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
	defer r.Close()
	l := New(w, 4096)
	ev := &Event{Kind: KindOpen, Proto: "udp", Guest: netip.MustParseAddrPort("10.0.2.15:1"), Host: netip.MustParseAddrPort("10.0.0.1:2")}
	start := time.Now()
	const n = 20000 // ~3 MB: more than the ring and the pipe hold
	for range n {
		ev.Time = time.Time{}
		l.Emit(ev)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%d Emits took %v: blocked on the writer?", n, d)
	}
	if l.Dropped() == 0 {
		t.Error("nothing dropped with a stuck writer")
	}
	if l.Dropped()+l.Emitted() != n {
		t.Errorf("dropped %d + emitted %d != %d", l.Dropped(), l.Emitted(), n)
	}
	if err := l.Close(100 * time.Millisecond); err == nil {
		t.Error("Close reported success with a stuck writer")
	}
	r.Close() // unblocks the writer's write: EPIPE
	w.Close()
}

func TestEmitAllocs(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	l := New(f, 1<<16)
	defer l.Close(time.Second)
	ev := &Event{Kind: KindClose, Proto: "tcp", Guest: netip.MustParseAddrPort("[fd00::2]:41000"),
		Host: netip.MustParseAddrPort("[2001:db8::1]:443"), Rule: "tcp:[2001:db8::/32]:443", BytesFromGuest: 1, BytesToGuest: 2}
	if n := testing.AllocsPerRun(1000, func() {
		ev.Time = time.Time{}
		l.Emit(ev)
	}); n != 0 {
		t.Errorf("Emit allocates %v per event", n)
	}
}

func BenchmarkEmit(b *testing.B) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	l := New(f, DefaultRing)
	defer l.Close(time.Second)
	ev := &Event{Kind: KindOpen, Proto: "tcp", Guest: netip.MustParseAddrPort("10.0.2.15:41000"), Host: netip.MustParseAddrPort("10.202.0.1:80")}
	b.ReportAllocs()
	for b.Loop() {
		ev.Time = time.Time{}
		l.Emit(ev)
	}
}
