// SPDX-License-Identifier: GPL-2.0-or-later

package profile

import (
	"encoding/binary"
	"slices"
)

// Arch is a Linux architecture the profile is compiled for.
type Arch struct {
	Name      string // GOARCH, as written in the profile's arch qualifiers
	Debian    string // Debian architecture name, for documentation
	Audit     uint32 // AUDIT_ARCH_* value the kernel puts in seccomp_data.arch
	Bits      int    // 32 or 64: width of the syscall arguments the filter compares
	BigEndian bool   // byte order of seccomp_data (and of the raw program)
}

// Arches are the Debian release architectures, in output order. A rule
// without an arch qualifier applies to all of them.
var Arches = []Arch{
	{Name: "amd64", Debian: "amd64", Audit: 0xc000003e, Bits: 64},
	{Name: "arm64", Debian: "arm64", Audit: 0xc00000b7, Bits: 64},
	{Name: "arm", Debian: "armhf", Audit: 0x40000028, Bits: 32},
	{Name: "386", Debian: "i386", Audit: 0x40000003, Bits: 32},
	{Name: "ppc64le", Debian: "ppc64el", Audit: 0xc0000015, Bits: 64},
	{Name: "s390x", Debian: "s390x", Audit: 0x80000016, Bits: 64, BigEndian: true},
	{Name: "riscv64", Debian: "riscv64", Audit: 0xc00000f3, Bits: 64},
	{Name: "mips64le", Debian: "mips64el", Audit: 0xc0000008, Bits: 64},
	{Name: "loong64", Debian: "loong64", Audit: 0xc0000102, Bits: 64},
}

// ArchByName returns the architecture with GOARCH name.
func ArchByName(name string) (Arch, bool) {
	i := slices.IndexFunc(Arches, func(a Arch) bool { return a.Name == name })
	if i < 0 {
		return Arch{}, false
	}
	return Arches[i], true
}

func archNames() []string {
	names := make([]string, len(Arches))
	for i, a := range Arches {
		names[i] = a.Name
	}
	return names
}

// VMData encodes struct seccomp_data for a syscall on a as
// golang.org/x/net/bpf's VM must see it to decide as the kernel of a does.
// The kernel loads 32-bit words in native order; the VM loads them
// big-endian. So each 32-bit word goes to the offset where the kernel
// finds it, encoded big-endian: a 64-bit argument as low word then high
// word on a little-endian machine, the other way round on a big-endian
// one. auditArch is normally a.Audit; tests pass others.
func (a Arch) VMData(nr, auditArch uint32, args *[6]uint64) []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(b[0:], nr)
	be.PutUint32(b[4:], auditArch)
	// instruction_pointer (8..15) stays zero
	for i, v := range args {
		lo, hi := 16+8*i, 20+8*i
		if a.BigEndian {
			lo, hi = hi, lo
		}
		be.PutUint32(b[lo:], uint32(v))
		be.PutUint32(b[hi:], uint32(v>>32))
	}
	return b
}
