// SPDX-License-Identifier: GPL-2.0-or-later

package pcap

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// udpFrame returns an Ethernet/IPv4/UDP frame from 10.0.0.1:1000 to
// 10.0.0.2:port carrying payload; checksums are left zero (tcpdump does
// not complain about a zero UDP checksum, and the IPv4 one is computed).
func udpFrame(port uint16, payload []byte) []byte {
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:6], []byte{0x02, 0, 0, 0, 0, 2})
	copy(f[6:12], []byte{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55})
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:], 1000)
	binary.BigEndian.PutUint16(udp[2:], port)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(f[42:], payload)
	return f
}

type record struct {
	sec, usec, capLen, origLen uint32
	data                       []byte
}

// readPcap parses a classic little-endian pcap file.
func readPcap(t *testing.T, b []byte) []record {
	t.Helper()
	if len(b) < GlobalHeaderSize {
		t.Fatalf("file is %d bytes, shorter than the global header", len(b))
	}
	le := binary.LittleEndian
	if got := le.Uint32(b[0:]); got != Magic {
		t.Fatalf("magic = %#x, want %#x", got, Magic)
	}
	if maj, min := le.Uint16(b[4:]), le.Uint16(b[6:]); maj != 2 || min != 4 {
		t.Fatalf("version = %d.%d, want 2.4", maj, min)
	}
	if got := le.Uint32(b[16:]); got != SnapLen {
		t.Fatalf("snaplen = %d", got)
	}
	if got := le.Uint32(b[20:]); got != LinkTypeEth {
		t.Fatalf("linktype = %d", got)
	}
	var recs []record
	b = b[GlobalHeaderSize:]
	for len(b) > 0 {
		if len(b) < RecordHeaderSize {
			t.Fatalf("trailing %d bytes", len(b))
		}
		r := record{le.Uint32(b[0:]), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]), nil}
		b = b[RecordHeaderSize:]
		if int(r.capLen) > len(b) {
			t.Fatalf("record caplen %d > %d bytes left", r.capLen, len(b))
		}
		r.data = b[:r.capLen]
		b = b[r.capLen:]
		recs = append(recs, r)
	}
	return recs
}

func TestWriteAndReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cap.pcap")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	big := udpFrame(9, make([]byte, SnapLen)) // longer than the snaplen
	frames := []struct {
		name  string
		frame []byte
		at    time.Time
	}{
		{"first", udpFrame(1111, []byte("hello")), time.Unix(1700000000, 123456789)},
		{"second", udpFrame(2222, []byte("world!")), time.Unix(1700000001, 999999000)},
		{"empty", nil, time.Unix(1700000002, 0)},
		{"truncated", big, time.Unix(1700000003, 5000)},
	}
	for _, f := range frames {
		w.Write(f.frame, f.at)
	}
	if n, err := w.Errors(); n != 0 {
		t.Fatalf("write errors: %d, %v", n, err)
	}
	if got := w.Frames(); got != uint64(len(frames)) {
		t.Fatalf("Frames() = %d", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Write(frames[0].frame, frames[0].at) // ignored after Close

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := readPcap(t, b)
	if len(recs) != len(frames) {
		t.Fatalf("%d records, want %d", len(recs), len(frames))
	}
	for i, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			r := recs[i]
			want := f.frame
			if len(want) > SnapLen {
				want = want[:SnapLen]
			}
			if r.origLen != uint32(len(f.frame)) || r.capLen != uint32(len(want)) {
				t.Errorf("caplen/origlen = %d/%d, want %d/%d", r.capLen, r.origLen, len(want), len(f.frame))
			}
			if !bytes.Equal(r.data, want) {
				t.Errorf("frame bytes differ")
			}
			if r.sec != uint32(f.at.Unix()) || r.usec != uint32(f.at.Nanosecond()/1000) {
				t.Errorf("timestamp = %d.%06d, want %d.%06d", r.sec, r.usec, f.at.Unix(), f.at.Nanosecond()/1000)
			}
		})
	}
}

func TestTcpdumpReadsFile(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	path := filepath.Join(t.TempDir(), "cap.pcap")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(udpFrame(1111, []byte("hello")), time.Unix(1700000000, 0))
	w.Write(udpFrame(2222, []byte("world!")), time.Unix(1700000001, 0))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tcpdump, "-r", path, "-nn", "-tt").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"1700000000.000000 IP 10.0.0.1.1000 > 10.0.0.2.1111: UDP, length 5",
		"1700000001.000000 IP 10.0.0.1.1000 > 10.0.0.2.2222: UDP, length 6",
		"link-type EN10MB",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("tcpdump output lacks %q:\n%s", want, s)
		}
	}
}

func TestWriteAllocs(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "cap.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f := udpFrame(53, make([]byte, 100))
	now := time.Unix(1700000000, 0)
	if a := testing.AllocsPerRun(1000, func() { w.Write(f, now) }); a != 0 {
		t.Errorf("Write: %v allocs per frame, want 0", a)
	}
}

func TestCreateError(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.pcap")); err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
}

func BenchmarkWrite(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), "cap.pcap"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	f := udpFrame(53, make([]byte, 1400))
	b.ReportAllocs()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		w.WriteNanos(f, 1700000000e9)
	}
}
