// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// The ring indices the guest and the back end hand each other (avail->idx,
// avail->flags, used->idx) are read and written with atomic operations on
// the aligned 32-bit word that holds them: an atomic load is the acquire
// that orders the reads of ring entries and descriptors after it, an
// atomic store the release that publishes used entries written before it
// (virtio 1.x §2.7.13, "memory barriers"). Go has no 16-bit atomics; the
// flags share the index's word (avail and used rings start 4-byte
// aligned: the spec asks 2 for avail, every driver we know gives 4, and
// the back end refuses less), and used->flags is the back end's own. The words are read as bytes in
// memory order, so this works on either byte order.

// loadWord16 atomically reads the 32-bit word at b[off] (4-byte aligned)
// as two little-endian u16: lo then hi.
func loadWord16(b []byte, off int) (lo, hi uint16) {
	w := atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[off])))
	bs := (*[4]byte)(unsafe.Pointer(&w))
	return binary.LittleEndian.Uint16(bs[0:]), binary.LittleEndian.Uint16(bs[2:])
}

// storeWord16 atomically writes the 32-bit word at b[off] (4-byte
// aligned) as two little-endian u16: lo then hi.
func storeWord16(b []byte, off int, lo, hi uint16) {
	var w uint32
	bs := (*[4]byte)(unsafe.Pointer(&w))
	binary.LittleEndian.PutUint16(bs[0:], lo)
	binary.LittleEndian.PutUint16(bs[2:], hi)
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[off])), w)
}

// aligned reports whether b starts at a multiple of n (a power of two).
func aligned(b []byte, n uintptr) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))&(n-1) == 0
}

// storeFence orders the plain stores before it before the atomic loads
// after it (a release store, then acquire loads: sequentially consistent
// in Go's memory model), on a word of the back end's own.
func storeFence(w *uint32) { atomic.StoreUint32(w, 0) }
