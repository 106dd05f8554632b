// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// region is one mapped piece of guest memory.
type region struct {
	gpa     uint64 // guest-physical start
	size    uint64 // bytes
	uva     uint64 // start in the front end's address space (ring addresses)
	mapping []byte // the whole mmap of the fd, from offset 0 (for munmap)
	mem     []byte // the region: mapping[mmapOffset:][:size]
}

// memory is the guest's memory as the front end shared it: up to
// maxRegions regions, each an mmap of the fd that came with it. Addresses
// the guest wrote (descriptors) are guest-physical; ring addresses are the
// front end's virtual addresses. Every translation checks the whole range
// against one region, with overflow checks: a range outside the table, or
// across two regions, does not translate.
type memory struct {
	regions [maxRegions]region
	n       int
}

// set replaces the table: the old regions are unmapped, the new ones
// mapped from fds (one per region, in order). The fds are not closed here.
// On error no region is mapped.
func (m *memory) set(t MemTable, fds []int) error {
	m.unmap()
	n := int(t.NRegions())
	for i := range n {
		r := t.Region(i)
		size, off := r.MemorySize(), r.MmapOffset()
		if size == 0 || size > math.MaxInt/2 || off > math.MaxInt/2 ||
			r.GuestPhysAddr() > math.MaxUint64-size || r.UserAddr() > math.MaxUint64-size {
			m.unmap()
			return fmt.Errorf("vhost-user: memory region %d: size %#x at offset %#x", i, size, off)
		}
		mapping, err := unix.Mmap(fds[i], 0, int(size+off), unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_SHARED|unix.MAP_NORESERVE)
		if err != nil {
			m.unmap()
			return fmt.Errorf("vhost-user: mapping memory region %d (%#x bytes): %w", i, size+off, err)
		}
		m.regions[i] = region{
			gpa: r.GuestPhysAddr(), size: size, uva: r.UserAddr(),
			mapping: mapping, mem: mapping[off : off+size : off+size],
		}
		m.n = i + 1
	}
	return nil
}

// unmap unmaps every region.
func (m *memory) unmap() {
	for i := range m.n {
		unix.Munmap(m.regions[i].mapping)
		m.regions[i] = region{}
	}
	m.n = 0
}

// guest returns the n bytes at guest-physical address addr, or nil when
// they are not all in one region.
func (m *memory) guest(addr uint64, n uint32) []byte {
	for i := range m.n {
		r := &m.regions[i]
		if addr >= r.gpa && addr-r.gpa < r.size && uint64(n) <= r.size-(addr-r.gpa) {
			off := addr - r.gpa
			return r.mem[off : off+uint64(n) : off+uint64(n)]
		}
	}
	return nil
}

// user returns the n bytes at the front end's virtual address addr, or
// nil when they are not all in one region.
func (m *memory) user(addr, n uint64) []byte {
	for i := range m.n {
		r := &m.regions[i]
		if addr >= r.uva && addr-r.uva < r.size && n <= r.size-(addr-r.uva) {
			off := addr - r.uva
			return r.mem[off : off+n : off+n]
		}
	}
	return nil
}
