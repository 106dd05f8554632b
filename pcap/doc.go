// SPDX-License-Identifier: GPL-2.0-or-later

// Package pcap writes the frames exchanged with the guest to a capture file
// in the classic libpcap format, as passt's --pcap option does.
//
// # Theory of operation
//
// Create opens (truncating) the file and writes the 24-byte global header:
// magic 0xa1b2c3d4 (written little endian; readers learn the byte order from it) (microsecond timestamps), version 2.4,
// zone and accuracy 0, snapshot length 65535 and link type 1
// (LINKTYPE_ETHERNET). Readers detect the byte order from the magic, as
// tcpdump and Wireshark do; passt writes the same header.
//
// Each frame then becomes one record: a 16-byte record header (seconds,
// microseconds, captured length, original length) followed by the frame
// bytes. Write issues one writev(2) of the Writer's own preallocated record
// header and the caller's frame, through a preallocated iovec pair, so a
// frame costs one system call and no allocation. Frames longer than the
// snapshot length are cut to 65535 bytes, with the original length recorded.
//
// Mirrors pcap.c in passt: like passt, a failed write is not fatal to the
// data path; it is counted (see Errors) and the next frame is tried again.
//
// A Writer belongs to the event-loop goroutine and is not safe for
// concurrent use. The file is opened before the sandbox is entered; the data
// path needs only writev (and close at shutdown).
package pcap
