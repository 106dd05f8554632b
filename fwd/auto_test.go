// SPDX-License-Identifier: GPL-2.0-or-later

package fwd

import (
	"errors"
	"slices"
	"testing"

	"gopasst/policy"
)

// recOpener records the listeners Auto opens and closes; ports in refuse
// fail to open.
type recOpener struct {
	open   []uint16 // ports listening now, in order of opening
	log    []string
	refuse map[uint16]bool
}

func (r *recOpener) Listen(l policy.Listener) error {
	if r.refuse[l.Port] {
		r.log = append(r.log, "refused "+itoa(l.Port))
		return errors.New("address in use")
	}
	r.open = append(r.open, l.Port)
	r.log = append(r.log, "listen "+itoa(l.Port)+"->"+itoa(l.ToPort))
	return nil
}

func (r *recOpener) Unlisten(port uint16) error {
	i := slices.Index(r.open, port)
	if i < 0 {
		return errors.New("not listening")
	}
	r.open = slices.Delete(r.open, i, i+1)
	r.log = append(r.log, "unlisten "+itoa(port))
	return nil
}

func itoa(p uint16) string {
	if p == 0 {
		return "0"
	}
	var b []byte
	for ; p > 0; p /= 10 {
		b = append([]byte{byte('0' + p%10)}, b...)
	}
	return string(b)
}

func TestAuto(t *testing.T) {
	dir := t.TempDir()
	rewrite(t, dir, "tcp", listen4("0050")) // 80
	s := NewScanner(dir, "tcp", forward(t, "auto"), nil)
	rec := &recOpener{refuse: map[uint16]bool{22: true}}
	a := NewAuto(AutoConfig{Rules: []AutoRule{{Name: "-t auto", Scanner: s, To: rec}}})
	defer a.Close()
	const sec = ScanInterval

	steps := []struct {
		name  string
		now   int64
		lines []string // new table; nil: unchanged
		open  []uint16
	}{
		{"first scan opens 80", 0, nil, []uint16{80}},
		{"8080 bound, 80 released", sec, []string{listen4("1F90")}, []uint16{8080}},
		{"a port that cannot be opened is skipped", 2 * sec, []string{listen4("1F90"), listen4("0016")}, []uint16{8080}},
		{"everything released", 3 * sec, []string{}, nil},
	}
	for _, st := range steps {
		if st.lines != nil {
			truncWrite(t, dir, "tcp", st.lines...)
		}
		a.Tick(st.now)
		if !slices.Equal(rec.open, st.open) {
			t.Fatalf("%s: listening on %v, want %v (log %v)", st.name, rec.open, st.open, rec.log)
		}
	}
	want := []string{"listen 80->80", "unlisten 80", "listen 8080->8080", "refused 22", "unlisten 8080", "unlisten 22"}
	// "unlisten 22" fails (never opened) and is not logged by recOpener.
	want = want[:len(want)-1]
	if !slices.Equal(rec.log, want) {
		t.Fatalf("log %v, want %v", rec.log, want)
	}
}
